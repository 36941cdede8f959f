"""Lottery drops: settings, settlement progress, the public draw, fans' entries
(lottery/published.py builds them)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from gateway.schemas.base import Id, ResponseBody, Uuid

LotteryState = Literal["open", "sealed", "drawn", "settled"]


class Lottery(ResponseBody):
    drop_id: Id
    algorithm: str
    state: LotteryState
    capture_mode: Literal["authorise", "capture_now"]
    opens_at: datetime
    closes_at: datetime
    draw_at: datetime
    max_quantity_per_entry: int
    commitment: str
    public_randomness: str | None
    entries_count: int | None
    entries_hash: str | None
    sealed_at: datetime | None
    drawn_at: datetime | None
    settled_at: datetime | None


class LotterySettings(Lottery):
    capture_note: str


class Money(ResponseBody):
    authorised: int
    captured: int
    released: int
    refunded: int
    failed: int


class Settlement(ResponseBody):
    entries: int
    won: int
    lost: int
    to_settle: int
    settled: int
    in_progress: int
    waiting: int
    percent_settled: float
    money: Money


class LotteryProgress(Lottery):
    settlement: Settlement


class DrawEntry(ResponseBody):
    id: Uuid
    tier_id: Id
    quantity: int


class DrawDocument(LotteryProgress):
    """Grows with the lottery: entries once sealed, seed, capacity and winners once drawn."""

    entries: list[DrawEntry] | None
    seed: str | None
    capacity: dict[str, int] | None
    winners: list[Uuid] | None


class Entry(ResponseBody):
    id: Uuid
    drop_id: Id
    tier_id: Id
    quantity: int
    amount_cents: int
    currency: str
    # 'confirming': the fan's browser is confirming the card; not an entry yet.
    status: Literal["confirming", "entered", "won", "lost"]
    result: str
    rank: int | None
    money: Literal["none", "authorised", "captured", "released", "refunded", "failed"]
    money_note: str
    settled: bool
    order_id: Uuid | None
    entered_at: datetime | None
    settled_at: datetime | None
    # While 'confirming': the PaymentIntent's status and the secret Stripe.js confirms it with.
    payment_status: str | None = None
    client_secret: str | None = None
    payment_error: str | None = None


class EntryList(ResponseBody):
    entries: list[Entry]

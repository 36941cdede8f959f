"""What the lottery publishes: the draw document, settlement progress, a fan's entries.

The draw document grows with the lottery's state and never reveals more than
that state allows: the commitment from the start, the entry list (ids, tiers,
quantities; no personal data) with its hash and count once sealed, the seed,
capacities and winners once drawn. `ticketq verify-draw` checks this document.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Drop
from lottery.draw import ALGORITHM
from lottery.models import LotteryDrop, LotteryEntry


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


async def settlement_progress(session: AsyncSession, drop_id: int) -> dict[str, Any]:
    rows = await session.execute(
        select(LotteryEntry.status, LotteryEntry.settlement, LotteryEntry.money, func.count())
        .where(LotteryEntry.drop_id == drop_id,
               LotteryEntry.status.in_(["entered", "won", "lost"]))
        .group_by(LotteryEntry.status, LotteryEntry.settlement, LotteryEntry.money))
    status: Counter[str] = Counter()
    settlement: Counter[str] = Counter()
    money: Counter[str] = Counter()
    for entry_status, entry_settlement, entry_money, count in rows:
        status[entry_status] += count
        money[entry_money] += count
        if entry_status != "entered":
            settlement[entry_settlement] += count
    total = sum(status.values())
    to_settle = status["won"] + status["lost"]
    return {
        "entries": total, "won": status["won"], "lost": status["lost"],
        "to_settle": to_settle, "settled": settlement["done"],
        "in_progress": settlement["working"], "waiting": settlement["pending"],
        "percent_settled": round(100 * settlement["done"] / to_settle, 1) if to_settle else 0.0,
        "money": {name: money[name] for name in
                  ("authorised", "captured", "released", "refunded", "failed")},
    }


def lottery_json(lottery: LotteryDrop, drop: Drop) -> dict[str, Any]:
    """The lottery's public settings and milestones (no seed before the draw)."""
    return {
        "drop_id": drop.id, "algorithm": ALGORITHM, "state": lottery.state,
        "capture_mode": lottery.capture_mode, "opens_at": iso(drop.opens_at),
        "closes_at": iso(drop.closes_at), "draw_at": iso(lottery.draw_at),
        "max_quantity_per_entry": lottery.max_quantity_per_entry,
        "commitment": lottery.commitment, "public_randomness": lottery.public_randomness,
        "entries_count": lottery.entries_count, "entries_hash": lottery.entries_hash,
        "sealed_at": iso(lottery.sealed_at), "drawn_at": iso(lottery.drawn_at),
        "settled_at": iso(lottery.settled_at),
    }


async def draw_document(session: AsyncSession, lottery: LotteryDrop, drop: Drop) -> dict[str, Any]:
    document = lottery_json(lottery, drop)
    document.update(entries=None, seed=None, capacity=None, winners=None)
    if lottery.state != "open":
        rows = await session.execute(
            select(LotteryEntry.id, LotteryEntry.tier_id, LotteryEntry.quantity)
            .where(LotteryEntry.drop_id == drop.id,
                   LotteryEntry.status.in_(["entered", "won", "lost"]))
            .order_by(LotteryEntry.id))
        document["entries"] = [{"id": row.id, "tier_id": row.tier_id, "quantity": row.quantity}
                               for row in rows]
    if lottery.state in {"drawn", "settled"}:
        winners = await session.scalars(
            select(LotteryEntry.id)
            .where(LotteryEntry.drop_id == drop.id, LotteryEntry.status == "won")
            .order_by(LotteryEntry.rank))
        document["seed"] = lottery.seed.hex()
        document["capacity"] = lottery.draw_capacity
        document["winners"] = list(winners)
    document["settlement"] = await settlement_progress(session, drop.id)
    return document


RESULTS = {"confirming": "waiting for your card to be confirmed",
           "entered": "waiting for the draw", "won": "won", "lost": "not drawn"}
MONEY = {
    "authorised": "held on your card, not charged",
    "captured": "charged",
    "released": "hold cancelled, nothing charged",
    "refunded": "refunded",
    "failed": "could not be charged",
    "none": "nothing held",
}


def entry_json(entry: LotteryEntry) -> dict[str, Any]:
    return {
        "id": entry.id, "drop_id": entry.drop_id, "tier_id": entry.tier_id,
        "quantity": entry.quantity, "amount_cents": entry.amount_cents,
        "currency": entry.currency, "status": entry.status, "result": RESULTS[entry.status],
        "rank": entry.rank, "money": entry.money, "money_note": entry.note or MONEY[entry.money],
        "settled": entry.settlement == "done" and entry.status != "entered",
        "order_id": entry.order_id, "entered_at": iso(entry.entered_at),
        "settled_at": iso(entry.settled_at),
    }

"""Cart holds: an admitted fan takes seats for a few minutes, then pays or lets go.

Redis decides (reserve_hold / release_hold are atomic scripts); Postgres keeps a
mirror of every hold (written before the fan hears "held", many holds per commit:
purchase.row_batcher), so reconciliation can rebuild live holds after Redis loses
them. Each release path (fan cancel, failed payment, expiry sweep, lazy reclaim)
goes through `release`, which returns stock exactly once and then updates the mirror.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import to_ms
from core.drop_phase import SELLING_PHASES
from core.errors import Busy, Conflict, Invalid, NotFound
from core.models import Hold
from core.redis_keys import DropKeys
from purchase import inventory
from purchase.context import PurchaseContext
from purchase.inventory import HoldItem, InventoryNotLoaded, OverLimit, SoldOut
from purchase.offers import DropOffer
from queue_engine.credentials import CredentialSigner

MAX_ITEMS = 10


@dataclass(frozen=True)
class HoldLine:
    tier_id: int
    name: str
    quantity: int
    unit_price_cents: int

    def as_json(self) -> dict[str, object]:
        return {"tier_id": self.tier_id, "name": self.name, "quantity": self.quantity,
                "unit_price_cents": self.unit_price_cents}


@dataclass(frozen=True)
class HoldReceipt:
    hold_id: str
    drop_id: int
    expires_at: datetime
    items: list[HoldLine]
    total_cents: int
    currency: str


def _lines(offer: DropOffer, requested: list[tuple[int, int]]) -> list[HoldLine]:
    quantities: Counter[int] = Counter()
    for tier_id, quantity in requested:
        if quantity < 1:
            raise Invalid("each quantity must be at least 1")
        quantities[tier_id] += quantity
    if not quantities:
        raise Invalid("pick at least one ticket")
    lines = []
    for tier_id, quantity in sorted(quantities.items()):
        tier = offer.tiers.get(tier_id)
        if tier is None:
            raise Invalid(f"tier {tier_id} is not sold in this drop", tier_id=tier_id)
        lines.append(HoldLine(tier_id, tier.name, quantity, tier.price_cents))
    if len({offer.tiers[line.tier_id].currency for line in lines}) > 1:
        raise Invalid("tiers priced in different currencies need separate holds")
    return lines


async def create_hold(
    ctx: PurchaseContext, *, drop_id: int, fan_id: int, admission_pass: str,
    items: list[tuple[int, int]], now: datetime,
) -> HoldReceipt:
    now_ms = to_ms(now)
    admission = CredentialSigner(ctx.settings.secret_key).read_admission_pass(
        admission_pass, drop_id=drop_id, fan_id=fan_id, now_ms=now_ms)
    offer = await ctx.offers.get(drop_id)
    if offer.drop.mode != "direct":
        raise Conflict("this drop is a lottery: enter the draw instead")
    phase = offer.phase(now)
    # The Redis stock is the real gate; the phase only says whether a sale is on at all.
    if phase not in SELLING_PHASES:
        raise Conflict(f"this drop is not selling right now ({phase.value})", phase=phase.value)
    lines = _lines(offer, items)
    keys = DropKeys(drop_id)
    hold_id = str(uuid.uuid4())
    expires_at = now + timedelta(seconds=offer.drop.hold_seconds or ctx.settings.hold_seconds)
    requested = [HoldItem(line.tier_id, line.quantity, offer.tiers[line.tier_id].per_fan_limit)
                 for line in lines]

    async def attempt() -> None:
        await inventory.reserve_hold(
            ctx.scripts, keys, hold_id=hold_id, fan_id=fan_id, pass_id=admission.pass_id,
            items=requested, now_ms=now_ms, expires_ms=to_ms(expires_at))

    try:
        await attempt()
    except InventoryNotLoaded:
        from purchase.reconcile import reconcile_drop  # reconcile builds on this module

        await reconcile_drop(ctx, drop_id, now=now, only_if_missing=True)
        await attempt()
    except (SoldOut, OverLimit):
        # Lazy reclaim: a dead sweeper must not strand seats in expired holds.
        if not await sweep_drop(ctx, drop_id, now=now):
            raise
        await attempt()

    currency = offer.tiers[lines[0].tier_id].currency
    total = sum(line.quantity * line.unit_price_cents for line in lines)
    try:
        # Shares its commit with the other holds granted meanwhile; returns once durable.
        await ctx.hold_mirror.write({
            "id": hold_id, "drop_id": drop_id, "event_id": offer.event_id, "user_id": fan_id,
            "items": [line.as_json() for line in lines], "total_cents": total,
            "currency": currency, "expires_at": expires_at, "state": "active"})
    except Exception as exc:
        # Without its mirror the hold could not be rebuilt after a Redis loss: give it back.
        await inventory.release_holds(ctx.scripts, keys, [hold_id], now_ms=now_ms)
        raise Busy("could not record the hold; try again") from exc
    return HoldReceipt(hold_id, drop_id, expires_at, lines, total, currency)


@dataclass(frozen=True)
class HoldRow:
    """A hold's mirror row as plain values (read with Core: checkout reads one per order)."""

    id: str
    drop_id: int
    event_id: int
    user_id: int
    items: list[dict[str, Any]]
    total_cents: int
    currency: str
    expires_at: datetime
    state: str


_HOLD_COLUMNS = (Hold.id, Hold.drop_id, Hold.event_id, Hold.user_id, Hold.items,
                 Hold.total_cents, Hold.currency, Hold.expires_at, Hold.state)


async def get_hold(session: AsyncSession, hold_id: str, fan_id: int) -> HoldRow:
    row = (await session.execute(select(*_HOLD_COLUMNS).where(Hold.id == hold_id))).one_or_none()
    if row is None or row.user_id != fan_id:
        raise NotFound("no such hold")
    return HoldRow(*row)


async def mark_holds(ctx: PurchaseContext, hold_ids: list[str], state: str) -> None:
    """Mirror released/expired holds in Postgres (only holds the mirror still calls active)."""
    if not hold_ids:
        return
    async with ctx.sessionmaker() as session, session.begin():
        await session.execute(
            update(Hold).where(Hold.id.in_(hold_ids), Hold.state == "active").values(state=state))


async def release(ctx: PurchaseContext, drop_id: int, hold_id: str, *, now: datetime,
                  state: str = "released", owner_fan_id: int | None = None) -> bool:
    released = await inventory.release_holds(ctx.scripts, DropKeys(drop_id), [hold_id],
                                             now_ms=to_ms(now), owner_fan_id=owner_fan_id)
    await mark_holds(ctx, released, state)
    return bool(released)


async def cancel_hold(ctx: PurchaseContext, *, hold_id: str, fan_id: int, now: datetime) -> None:
    """The fan lets go of a hold. Releasing twice is fine; a hold being paid for is not released."""
    async with ctx.sessionmaker() as session:
        hold = await get_hold(session, hold_id, fan_id)
    if hold.state == "converted":
        raise Conflict("this hold was paid for; it is an order now")
    if await release(ctx, hold.drop_id, hold.id, now=now, owner_fan_id=fan_id):
        return
    record = await inventory.hold_record(ctx.scripts, DropKeys(hold.drop_id), hold_id)
    if record is not None and record.get("state") == "paid":
        raise Conflict("this hold is being paid for and can no longer be released")
    await mark_holds(ctx, [hold_id], "released")


async def sweep_drop(ctx: PurchaseContext, drop_id: int, *, now: datetime,
                     limit: int = 500) -> list[str]:
    """Return expired holds' seats to stock (the sweeper job, and lazily on a refused hold)."""
    expired = await inventory.sweep_expired(ctx.scripts, DropKeys(drop_id), now_ms=to_ms(now),
                                            limit=limit)
    await mark_holds(ctx, expired, "expired")
    return expired

"""Changing an event or a tier after it was created, within what fans were already promised.

An event's title, description and times change freely until it is cancelled. A tier's
name and per-fan limit change freely; its price only while nobody has bought or holds
a seat of it (a hold records the price it showed, and the fan pays exactly that, so a
new price would make two fans pay differently for one seat); its capacity never goes
below the seats sold plus those in live carts.

The capacity check runs under the tier row's lock (the ledger's sale takes the same
row), and the `sold <= capacity` constraint stays the last word: a cart made in the
instant between the check and the commit can at worst not be ticketed and is
refunded, never oversold. Redis stock follows the new capacity afterwards: the caller
rebuilds it for `TierEdit.selling_drop_ids` (bootstrap/catalog_edits.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor
from catalog.changes import aware, commit_with_audit
from catalog.events import managed_event
from core.errors import Conflict, Invalid, NotFound
from core.models import Drop, Event, Hold, TicketTier

MAX_TITLE = 300
MAX_DESCRIPTION = 10_000
MAX_TIER_NAME = 100


class EventChanges(TypedDict):
    title: NotRequired[str]
    description: NotRequired[str]
    starts_at: NotRequired[datetime]
    ends_at: NotRequired[datetime]


class TierChanges(TypedDict):
    name: NotRequired[str]
    price_cents: NotRequired[int]
    capacity: NotRequired[int]
    per_fan_limit: NotRequired[int]


@dataclass(frozen=True)
class TierUsage:
    """Seats of a tier fans already have: paid (`sold`) or in a live cart (`held`)."""

    sold: int
    held: int

    @property
    def taken(self) -> int:
        return self.sold + self.held

    @property
    def price_locked(self) -> str | None:
        """Why the price can no longer change, or None while it can."""
        if not self.taken:
            return None
        return (f"the price is fixed once fans buy or hold tickets ({self.sold} sold, "
                f"{self.held} in carts)")


@dataclass(frozen=True)
class TierEdit:
    tier: TicketTier
    usage: TierUsage
    # Direct drops of the event that may still sell: their Redis stock must follow a
    # new capacity, their cached offers a new price or limit.
    selling_drop_ids: list[int]


def _editable(event: Event) -> None:
    if event.status == "cancelled":
        raise Conflict("a cancelled event can no longer be edited")


def _text(value: str, field: str, longest: int, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(f"{field} must not be empty")
    if len(value) > longest:
        raise Invalid(f"{field} must be at most {longest} characters")
    if "\x00" in value:
        raise Invalid(f"{field} must not contain a NUL character")
    return value


def _changed(before: dict[str, Any], row: object) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that really changed, as JSON-ready values."""
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return {field: [plain(old), plain(getattr(row, field))]
            for field, old in before.items() if old != getattr(row, field)}


async def edit_event(session: AsyncSession, actor: Actor, event_id: int,
                     **changes: Unpack[EventChanges]) -> Event:
    """Change an event's title, description and/or times (venue admins; audited)."""
    event = await managed_event(session, actor, event_id)
    _editable(event)
    title = _text(changes.get("title", event.title), "title", MAX_TITLE)
    description = _text(changes.get("description", event.description), "description",
                        MAX_DESCRIPTION, required=False)
    starts_at = aware(changes.get("starts_at", event.starts_at), "starts_at")
    ends_at = aware(changes.get("ends_at", event.ends_at), "ends_at")
    if ends_at <= starts_at:
        raise Invalid("ends_at must be after starts_at")
    before = {field: getattr(event, field)
              for field in ("title", "description", "starts_at", "ends_at")}
    event.title, event.description = title, description
    event.starts_at, event.ends_at = starts_at, ends_at
    changed = _changed(before, event)
    if changed:
        await commit_with_audit(session, actor, "event.edit", ("event", event.id),
                                changes=changed)
    return event


async def tier_usages(session: AsyncSession, event_id: int, *,
                      now: datetime) -> dict[int, TierUsage]:
    """Each tier's sold and held seats (held: active carts not yet expired, the same
    holds purchase.reconcile counts as live)."""
    tiers = list(await session.scalars(select(TicketTier).where(TicketTier.event_id == event_id)))
    held: dict[int, int] = defaultdict(int)
    for items in await session.scalars(select(Hold.items).where(
            Hold.event_id == event_id, Hold.state == "active", Hold.expires_at > now)):
        for item in items:
            held[int(item["tier_id"])] += int(item["quantity"])
    return {tier.id: TierUsage(tier.sold, held[tier.id]) for tier in tiers}


async def managed_tiers(session: AsyncSession, actor: Actor, event_id: int, *,
                        now: datetime) -> list[tuple[TicketTier, TierUsage]]:
    """The event's tiers with what fans have of each, for its venue's admins."""
    await managed_event(session, actor, event_id)
    usages = await tier_usages(session, event_id, now=now)
    tiers = await session.scalars(
        select(TicketTier).where(TicketTier.event_id == event_id).order_by(TicketTier.id))
    return [(tier, usages[tier.id]) for tier in tiers]


async def _selling_drops(session: AsyncSession, event_id: int, now: datetime) -> list[int]:
    """Direct drops that can still sell (purchase.reconcile.drops_to_reconcile, per event)."""
    rows = await session.scalars(select(Drop.id).where(
        Drop.event_id == event_id, Drop.mode == "direct", Drop.state != "cancelled",
        Drop.closes_at > now).order_by(Drop.id))
    return list(rows)


def _check_tier(tier: TicketTier, usage: TierUsage, changes: TierChanges) -> None:
    price = changes.get("price_cents", tier.price_cents)
    if price != tier.price_cents and usage.price_locked:
        raise Conflict(usage.price_locked, sold=usage.sold, held=usage.held)
    if price < 0:
        raise Invalid("price_cents must be >= 0")
    capacity = changes.get("capacity", tier.capacity)
    if capacity < usage.taken:
        raise Conflict(f"capacity cannot go below the {usage.taken} seats fans already have "
                       f"({usage.sold} sold, {usage.held} in carts)",
                       sold=usage.sold, held=usage.held)
    if changes.get("per_fan_limit", tier.per_fan_limit) < 1:
        raise Invalid("per_fan_limit must be >= 1")


async def edit_tier(session: AsyncSession, actor: Actor, event_id: int, tier_id: int, *,
                    now: datetime, **changes: Unpack[TierChanges]) -> TierEdit:
    """Change a tier's name, price, capacity and/or per-fan limit (venue admins; audited)."""
    event = await managed_event(session, actor, event_id)
    _editable(event)
    # The row lock orders this check against the ledger's `sold` update of a sale.
    tier = await session.scalar(select(TicketTier).where(
        TicketTier.id == tier_id, TicketTier.event_id == event.id).with_for_update())
    if tier is None:
        raise NotFound("no such tier in this event")
    usage = (await tier_usages(session, event.id, now=now))[tier.id]
    name = _text(changes.get("name", tier.name), "name", MAX_TIER_NAME)
    _check_tier(tier, usage, changes)
    selling = await _selling_drops(session, event.id, now)  # read before the change flushes
    before = {field: getattr(tier, field)
              for field in ("name", "price_cents", "capacity", "per_fan_limit")}
    tier.name = name
    tier.price_cents = changes.get("price_cents", tier.price_cents)
    tier.capacity = changes.get("capacity", tier.capacity)
    tier.per_fan_limit = changes.get("per_fan_limit", tier.per_fan_limit)
    changed = _changed(before, tier)
    if not changed:
        await session.commit()  # nothing to write: lets go of the row lock
        return TierEdit(tier, usage, selling)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        if "name" in changed:
            raise Conflict(f"this event already has a tier named {name!r}") from exc
        raise Conflict("the tier changed meanwhile; reload and try again") from exc
    await commit_with_audit(session, actor, "tier.edit", ("event", event.id),
                            tier_id=tier.id, changes=changed)
    return TierEdit(tier, usage, selling)

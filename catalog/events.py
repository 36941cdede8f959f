"""Events and their ticket tiers: drafts until published, visible to their venue's admins.

Services own their transactions: each public function commits or raises a
DomainError having written nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NotRequired, TypedDict, Unpack

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.approval import require_approved
from catalog.authz import Actor, can_manage_venue, require_venue_admin
from catalog.changes import aware, commit_with_audit
from catalog.venues import get_venue
from core.errors import Conflict, Invalid, NotFound
from core.models import Event, TicketTier


class EventFields(TypedDict):
    title: str
    starts_at: datetime
    ends_at: datetime
    description: NotRequired[str]
    published: NotRequired[bool]  # a draft by default


async def create_event(
    session: AsyncSession, actor: Actor, *, venue_id: int, **fields: Unpack[EventFields]
) -> Event:
    venue = await get_venue(session, venue_id)
    await require_venue_admin(session, actor, venue_id)
    if fields.get("published", False):
        require_approved(venue)
    event = new_event(venue_id, **fields)
    session.add(event)
    await session.flush()
    await commit_with_audit(
        session, actor, "event.create", ("event", event.id), title=event.title,
        status=event.status,
    )
    return event


def new_event(venue_id: int, **fields: Unpack[EventFields]) -> Event:
    """An event row, checked, not yet added: create_event's rules, shared with seeding."""
    starts_at, ends_at = fields["starts_at"], fields["ends_at"]
    if aware(ends_at, "ends_at") <= aware(starts_at, "starts_at"):
        raise Invalid("ends_at must be after starts_at")
    return Event(
        venue_id=venue_id,
        title=fields["title"],
        description=fields.get("description", ""),
        starts_at=starts_at,
        ends_at=ends_at,
        status="published" if fields.get("published", False) else "draft",
        image_sha256=None,  # a new event has no picture; set so it is never lazy-loaded
    )


async def visible_event(session: AsyncSession, viewer: Actor | None, event_id: int) -> Event:
    """A published event for anyone; a draft only for its venue's admins (else 404)."""
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound("no such event")
    if event.status == "draft" and not await can_manage_venue(session, viewer, event.venue_id):
        raise NotFound("no such event")
    return event


async def managed_event(session: AsyncSession, actor: Actor, event_id: int) -> Event:
    """The event, if the actor administers its venue.

    404 when they cannot even see it, 403 when they can see but not change it."""
    event = await visible_event(session, actor, event_id)
    await require_venue_admin(session, actor, event.venue_id)
    return event


async def publish_event(session: AsyncSession, actor: Actor, event_id: int) -> Event:
    event = await managed_event(session, actor, event_id)
    if event.status == "cancelled":
        raise Conflict("a cancelled event cannot be published")
    require_approved(await get_venue(session, event.venue_id))
    event.status = "published"
    await commit_with_audit(session, actor, "event.publish", ("event", event.id))
    return event


async def list_published_events(session: AsyncSession, *, limit: int = 100) -> list[Event]:
    rows = await session.scalars(
        select(Event).where(Event.status == "published").order_by(Event.starts_at).limit(limit)
    )
    return list(rows)


async def create_tier(
    session: AsyncSession,
    actor: Actor,
    *,
    event_id: int,
    name: str,
    price_cents: int,
    currency: str,
    capacity: int,
    per_fan_limit: int,
) -> TicketTier:
    event = await managed_event(session, actor, event_id)
    tier = new_tier(event.id, TierSpec(name, price_cents, capacity, per_fan_limit, currency))
    session.add(tier)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(f"this event already has a tier named {name!r}") from exc
    await commit_with_audit(
        session,
        actor,
        "tier.create",
        ("event", event.id),
        tier_id=tier.id,
        name=name,
        capacity=capacity,
    )
    return tier


@dataclass(frozen=True)
class TierSpec:
    name: str
    price_cents: int
    capacity: int
    per_fan_limit: int
    currency: str = "EUR"


def new_tier(event_id: int, tier: TierSpec) -> TicketTier:
    """A tier row, checked, not yet added: create_tier's rules, shared with seeding."""
    if len(tier.currency) != 3 or not tier.currency.isalpha():
        raise Invalid("currency must be a 3-letter ISO 4217 code such as 'EUR'")
    if tier.price_cents < 0 or tier.capacity < 0 or tier.per_fan_limit < 1:
        raise Invalid("price_cents and capacity must be >= 0 and per_fan_limit >= 1")
    return TicketTier(
        event_id=event_id,
        name=tier.name,
        price_cents=tier.price_cents,
        currency=tier.currency.upper(),
        capacity=tier.capacity,
        per_fan_limit=tier.per_fan_limit,
    )


async def event_tiers(session: AsyncSession, event_id: int) -> list[TicketTier]:
    rows = await session.scalars(
        select(TicketTier).where(TicketTier.event_id == event_id).order_by(TicketTier.id)
    )
    return list(rows)

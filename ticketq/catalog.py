"""Venues, their staff, events, ticket tiers and drops: the catalogue a drop sells from.

Services own their transactions: each public function commits or raises a
DomainError having written nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ticketq import audit
from ticketq.accounts import normalise_email
from ticketq.authz import Actor, can_manage_venue, require_venue_admin
from ticketq.errors import Conflict, Invalid, NotFound
from ticketq.models import Drop, Event, Role, TicketTier, User, Venue, VenueStaff

# A card authorisation lapses after about 7 days; lottery drops must draw before.
MAX_SESSION_SECONDS = 3600


async def _commit_with_audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject: tuple[str, int | str],
    **details: Any,
) -> None:
    """Record who did what in the audit log, in the same transaction as the change."""
    subject_type, subject_id = subject
    audit.record(
        session,
        actor_user_id=actor.id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=details,
    )
    await session.commit()


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(
            f"unknown timezone {name!r}; use an IANA name such as 'Europe/Paris'"
        ) from exc


def _aware(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise Invalid(f"{field} needs a timezone offset, e.g. 2026-12-01T20:00:00Z")
    return moment


async def create_venue(
    session: AsyncSession, actor: Actor, *, name: str, city: str, timezone: str
) -> Venue:
    _check_timezone(timezone)
    venue = Venue(name=name, city=city, timezone=timezone)
    session.add(venue)
    await session.flush()
    if actor.role != Role.ADMIN:
        # Whoever creates a venue administers it.
        session.add(VenueStaff(venue_id=venue.id, user_id=actor.id, role=Role.VENUE_ADMIN))
        user = await session.get(User, actor.id)
        if user is not None and user.role in {Role.FAN, Role.SCANNER}:
            user.role = Role.VENUE_ADMIN
    await _commit_with_audit(session, actor, "venue.create", ("venue", venue.id), name=name)
    return venue


async def add_staff(
    session: AsyncSession, actor: Actor, *, venue_id: int, email: str, role: str
) -> VenueStaff:
    await _get_venue(session, venue_id)
    await require_venue_admin(session, actor, venue_id)
    if role not in {Role.VENUE_ADMIN, Role.SCANNER}:
        raise Invalid("role must be 'venue_admin' or 'scanner'")
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound("no account with that email; ask them to sign up first")
    staff = await session.get(VenueStaff, (venue_id, user.id))
    if staff is None:
        staff = VenueStaff(venue_id=venue_id, user_id=user.id, role=role)
        session.add(staff)
    else:
        staff.role = role
    if user.role == Role.FAN or (user.role == Role.SCANNER and role == Role.VENUE_ADMIN):
        user.role = role
    await _commit_with_audit(
        session, actor, "venue.staff", ("venue", venue_id), user_id=user.id, role=role
    )
    return staff


async def _get_venue(session: AsyncSession, venue_id: int) -> Venue:
    venue = await session.get(Venue, venue_id)
    if venue is None:
        raise NotFound("no such venue")
    return venue


async def create_event(
    session: AsyncSession,
    actor: Actor,
    *,
    venue_id: int,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    published: bool = False,
) -> Event:
    await _get_venue(session, venue_id)
    await require_venue_admin(session, actor, venue_id)
    if _aware(ends_at, "ends_at") <= _aware(starts_at, "starts_at"):
        raise Invalid("ends_at must be after starts_at")
    event = Event(
        venue_id=venue_id,
        title=title,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        status="published" if published else "draft",
    )
    session.add(event)
    await session.flush()
    await _commit_with_audit(
        session, actor, "event.create", ("event", event.id), title=title, status=event.status
    )
    return event


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
    event.status = "published"
    await _commit_with_audit(session, actor, "event.publish", ("event", event.id))
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
    if len(currency) != 3 or not currency.isalpha():
        raise Invalid("currency must be a 3-letter ISO 4217 code such as 'EUR'")
    if price_cents < 0 or capacity < 0 or per_fan_limit < 1:
        raise Invalid("price_cents and capacity must be >= 0 and per_fan_limit >= 1")
    tier = TicketTier(
        event_id=event.id,
        name=name,
        price_cents=price_cents,
        currency=currency.upper(),
        capacity=capacity,
        per_fan_limit=per_fan_limit,
    )
    session.add(tier)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict(f"this event already has a tier named {name!r}") from exc
    await _commit_with_audit(
        session,
        actor,
        "tier.create",
        ("event", event.id),
        tier_id=tier.id,
        name=name,
        capacity=capacity,
    )
    return tier


async def event_tiers(session: AsyncSession, event_id: int) -> list[TicketTier]:
    rows = await session.scalars(
        select(TicketTier).where(TicketTier.event_id == event_id).order_by(TicketTier.id)
    )
    return list(rows)


@dataclass(frozen=True)
class DropSchedule:
    mode: str
    prequeue_opens_at: datetime
    opens_at: datetime
    closes_at: datetime
    admit_per_minute: int
    max_active: int
    session_seconds: int
    hold_seconds: int = 600

    def problems(self) -> list[str]:
        found = []
        if self.mode not in {"direct", "lottery"}:
            found.append("mode must be 'direct' or 'lottery'")
        moments = {
            "prequeue_opens_at": self.prequeue_opens_at,
            "opens_at": self.opens_at,
            "closes_at": self.closes_at,
        }
        found += [
            f"{name} needs a timezone offset" for name, m in moments.items() if m.tzinfo is None
        ]
        if found:
            return found
        if self.prequeue_opens_at > self.opens_at:
            found.append("prequeue_opens_at must not be after opens_at")
        if self.closes_at <= self.opens_at:
            found.append("closes_at must be after opens_at")
        if self.admit_per_minute < 1:
            found.append("admit_per_minute must be at least 1")
        if self.max_active < 1:
            found.append("max_active must be at least 1")
        if not 30 <= self.session_seconds <= MAX_SESSION_SECONDS:
            found.append(f"session_seconds must be between 30 and {MAX_SESSION_SECONDS}")
        if not 60 <= self.hold_seconds <= 3600:
            found.append("hold_seconds must be between 60 and 3600")
        if self.closes_at - self.opens_at > timedelta(days=60):
            found.append("a drop may stay open for at most 60 days")
        return found


async def create_drop(
    session: AsyncSession, actor: Actor, *, event_id: int, schedule: DropSchedule
) -> Drop:
    event = await managed_event(session, actor, event_id)
    problems = schedule.problems()
    if problems:
        raise Invalid("; ".join(problems))
    drop = Drop(
        event_id=event.id,
        mode=schedule.mode,
        prequeue_opens_at=schedule.prequeue_opens_at,
        opens_at=schedule.opens_at,
        closes_at=schedule.closes_at,
        admit_per_minute=schedule.admit_per_minute,
        max_active=schedule.max_active,
        session_seconds=schedule.session_seconds,
        hold_seconds=schedule.hold_seconds,
        state="scheduled",
    )
    session.add(drop)
    await session.flush()
    await _commit_with_audit(
        session, actor, "drop.create", ("drop", drop.id), event_id=event.id, mode=schedule.mode
    )
    return drop


@dataclass(frozen=True)
class DropView:
    drop: Drop
    event: Event
    venue: Venue
    tiers: list[TicketTier]


async def visible_drop(session: AsyncSession, viewer: Actor | None, drop_id: int) -> DropView:
    """A drop with its event, venue and tiers: public once the event is published."""
    drop = await session.get(Drop, drop_id)
    if drop is None:
        raise NotFound("no such drop")
    try:
        event = await visible_event(session, viewer, drop.event_id)
    except NotFound as exc:
        raise NotFound("no such drop") from exc
    venue = await _get_venue(session, event.venue_id)
    return DropView(drop=drop, event=event, venue=venue, tiers=await event_tiers(session, event.id))


async def managed_drop(session: AsyncSession, actor: Actor, drop_id: int) -> DropView:
    view = await visible_drop(session, actor, drop_id)
    await require_venue_admin(session, actor, view.event.venue_id)
    return view


def drop_changes(drop: Drop) -> dict[str, Any]:
    return {
        "admit_per_minute": drop.admit_per_minute,
        "max_active": drop.max_active,
        "state": drop.state,
    }


@dataclass(frozen=True)
class VenueOverview:
    venue: Venue
    role: str
    events: list[Event]
    tiers: dict[int, list[TicketTier]]
    drops: dict[int, list[Drop]]


async def staff_venues(session: AsyncSession, actor: Actor) -> list[VenueOverview]:
    """The venues the actor works for (all of them for platform admins), with events and drops."""
    if actor.role == Role.ADMIN:
        venues = [(venue, str(Role.ADMIN)) for venue in await session.scalars(select(Venue))]
    else:
        rows = await session.execute(
            select(Venue, VenueStaff.role)
            .join(VenueStaff, VenueStaff.venue_id == Venue.id)
            .where(VenueStaff.user_id == actor.id)
        )
        venues = [(venue, role) for venue, role in rows]
    overviews = []
    for venue, role in sorted(venues, key=lambda pair: pair[0].id):
        events = list(
            await session.scalars(
                select(Event).where(Event.venue_id == venue.id).order_by(Event.starts_at)
            )
        )
        tiers = {event.id: await event_tiers(session, event.id) for event in events}
        drops = {
            event.id: list(
                await session.scalars(
                    select(Drop).where(Drop.event_id == event.id).order_by(Drop.opens_at)
                )
            )
            for event in events
        }
        overviews.append(VenueOverview(venue, role, events, tiers, drops))
    return overviews

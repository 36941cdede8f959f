"""Venues and their staff.

Services own their transactions: each public function commits or raises a
DomainError having written nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.users import normalise_email
from catalog.authz import Actor, require_venue_admin
from catalog.changes import check_timezone, commit_with_audit
from core.errors import Invalid, NotFound
from core.models import Drop, Event, Role, TicketTier, User, Venue, VenueStaff


async def create_venue(
    session: AsyncSession, actor: Actor, *, name: str, city: str, timezone: str
) -> Venue:
    check_timezone(timezone)
    venue = Venue(name=name, city=city, timezone=timezone)
    session.add(venue)
    await session.flush()
    if actor.role != Role.ADMIN:
        # Whoever creates a venue administers it.
        session.add(VenueStaff(venue_id=venue.id, user_id=actor.id, role=Role.VENUE_ADMIN))
        user = await session.get(User, actor.id)
        if user is not None and user.role in {Role.FAN, Role.SCANNER}:
            user.role = Role.VENUE_ADMIN
    await commit_with_audit(session, actor, "venue.create", ("venue", venue.id), name=name)
    return venue


async def add_staff(
    session: AsyncSession, actor: Actor, *, venue_id: int, email: str, role: str
) -> VenueStaff | None:
    """Make the account with `email` staff of the venue; None (and nothing written) when
    there is no such account. Callers answer both alike, so staff adding is no oracle for
    which emails have accounts."""
    await get_venue(session, venue_id)
    await require_venue_admin(session, actor, venue_id)
    if role not in {Role.VENUE_ADMIN, Role.SCANNER}:
        raise Invalid("role must be 'venue_admin' or 'scanner'")
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        return None
    staff = await session.get(VenueStaff, (venue_id, user.id))
    if staff is None:
        staff = VenueStaff(venue_id=venue_id, user_id=user.id, role=role)
        session.add(staff)
    else:
        staff.role = role
    if user.role == Role.FAN or (user.role == Role.SCANNER and role == Role.VENUE_ADMIN):
        user.role = role
    await commit_with_audit(
        session, actor, "venue.staff", ("venue", venue_id), user_id=user.id, role=role
    )
    return staff


async def get_venue(session: AsyncSession, venue_id: int) -> Venue:
    venue = await session.get(Venue, venue_id)
    if venue is None:
        raise NotFound("no such venue")
    return venue


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
        tiers = {
            event.id: list(
                await session.scalars(
                    select(TicketTier)
                    .where(TicketTier.event_id == event.id)
                    .order_by(TicketTier.id)
                )
            )
            for event in events
        }
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

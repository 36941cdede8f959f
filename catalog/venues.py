"""Venues and their staff.

Services own their transactions: each public function commits or raises a
DomainError having written nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.totp import is_enrolled
from catalog.authz import Actor, require_venue_admin
from catalog.changes import check_timezone, commit_with_audit
from core.errors import Conflict, NotFound
from core.models import Approval, Drop, Event, Role, TicketTier, User, Venue, VenueStaff


async def create_venue(
    session: AsyncSession,
    actor: Actor,
    *,
    name: str,
    city: str,
    timezone: str,
    approval_required: bool,
) -> Venue:
    """A new venue; its non-admin creator becomes its venue_admin (a venue_staff row, never
    a change to their account's role). With `approval_required` (TICKETQ_VENUE_APPROVAL)
    a venue made by a non-admin starts pending: it cannot publish until approved."""
    check_timezone(timezone)
    platform_admin = actor.role == Role.ADMIN
    pending = approval_required and not platform_admin
    venue = Venue(
        name=name, city=city, timezone=timezone,
        approval=Approval.PENDING if pending else Approval.APPROVED,
    )
    session.add(venue)
    await session.flush()
    if not platform_admin:
        session.add(VenueStaff(venue_id=venue.id, user_id=actor.id, role=Role.VENUE_ADMIN))
    await commit_with_audit(
        session, actor, "venue.create", ("venue", venue.id), name=name, approval=venue.approval
    )
    return venue


async def remove_staff(session: AsyncSession, actor: Actor, *, venue_id: int, user_id: int) -> str:
    """End someone's rights at the venue. The last venue_admin stays (a venue nobody
    administers could only be rescued by a platform admin)."""
    await get_venue(session, venue_id)
    await require_venue_admin(session, actor, venue_id)
    staff = await session.get(VenueStaff, (venue_id, user_id))
    if staff is None:
        raise NotFound("this account is not staff of this venue")
    if staff.role == Role.VENUE_ADMIN:
        admins = await session.scalar(
            select(func.count()).select_from(VenueStaff).where(
                VenueStaff.venue_id == venue_id, VenueStaff.role == Role.VENUE_ADMIN
            )
        )
        if admins == 1:
            raise Conflict("the venue's last venue_admin cannot be removed; add another first")
    await session.delete(staff)
    await commit_with_audit(
        session, actor, "venue.staff.remove", ("venue", venue_id), user_id=user_id,
        role=staff.role,
    )
    return staff.role


@dataclass(frozen=True)
class StaffEntry:
    user_id: int
    email: str
    name: str
    role: str


async def list_staff(session: AsyncSession, actor: Actor, venue_id: int) -> list[StaffEntry]:
    """The venue's staff (its admins only may see who they are), admins first."""
    await get_venue(session, venue_id)
    await require_venue_admin(session, actor, venue_id)
    rows = await session.execute(
        select(VenueStaff.user_id, User.email, User.name, VenueStaff.role)
        .join(User, User.id == VenueStaff.user_id)
        .where(VenueStaff.venue_id == venue_id)
        .order_by(VenueStaff.role.desc(), User.email)
    )
    return [StaffEntry(user_id, email, name, role) for user_id, email, name, role in rows]


async def set_require_totp(session: AsyncSession, actor: Actor, *, venue_id: int,
                           require_totp: bool) -> Venue:
    """Require (or stop requiring) two-factor authentication of the venue's staff.

    A venue admin without 2FA may not turn it on: the next request would lock them out."""
    venue = await get_venue(session, venue_id)
    await require_venue_admin(session, actor, venue_id)
    if require_totp and actor.role != Role.ADMIN and not await is_enrolled(session, actor.id):
        raise Conflict("turn on two-factor authentication for your own account first "
                       "(/account/security)")
    venue.require_totp = require_totp
    await commit_with_audit(session, actor, "venue.security", ("venue", venue_id),
                            require_totp=require_totp)
    return venue


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

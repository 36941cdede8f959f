"""Who may do what: venue admins manage only their venues, scanners scan only for theirs.

Rule of thumb for answers: an object the caller may not even see (another
venue's draft) is a 404; an object they can see but not change is a 403.

A venue with `require_totp` refuses its staff without two-factor authentication here,
in `venue_role`, the one place every venue right goes through: they get a 403 naming
the fix (TotpSetupRequired), never a quiet "not staff", so they know what to do.
Platform admins are not venue staff and are not affected (docs/accounts.md).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden
from core.models import Role, TotpCredential, Venue, VenueStaff

TOTP_SETUP_REQUIRED = ("set up two-factor authentication to manage this venue "
                       "(/account/security)")


class TotpSetupRequired(Forbidden):
    """Staff of a venue that requires 2FA, without 2FA enrolled."""


class Actor(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...


async def venue_role(session: AsyncSession, actor: Actor | None, venue_id: int) -> str | None:
    """'admin' for platform admins, else the actor's staff role at the venue, else None.

    TotpSetupRequired (403) for staff of a venue requiring 2FA who have not enrolled."""
    if actor is None:
        return None
    if actor.role == Role.ADMIN:
        return Role.ADMIN
    # One round trip: the role, the venue's rule and whether the actor has 2FA on.
    found = (await session.execute(
        select(VenueStaff.role, Venue.require_totp, TotpCredential.confirmed_at)
        .join(Venue, Venue.id == VenueStaff.venue_id)
        .outerjoin(TotpCredential, TotpCredential.user_id == VenueStaff.user_id)
        .where(VenueStaff.venue_id == venue_id, VenueStaff.user_id == actor.id)
    )).first()
    if found is None:
        return None
    role, require_totp, totp_on = found
    if require_totp and totp_on is None:
        raise TotpSetupRequired(TOTP_SETUP_REQUIRED)
    return str(role)


async def can_manage_venue(session: AsyncSession, actor: Actor | None, venue_id: int) -> bool:
    return await venue_role(session, actor, venue_id) in {Role.ADMIN, Role.VENUE_ADMIN}


async def can_scan_for_venue(session: AsyncSession, actor: Actor | None, venue_id: int) -> bool:
    return await venue_role(session, actor, venue_id) in {
        Role.ADMIN,
        Role.VENUE_ADMIN,
        Role.SCANNER,
    }


async def require_venue_admin(session: AsyncSession, actor: Actor, venue_id: int) -> None:
    if not await can_manage_venue(session, actor, venue_id):
        raise Forbidden("only this venue's admins may do that")


async def require_venue_scanner(session: AsyncSession, actor: Actor, venue_id: int) -> None:
    if not await can_scan_for_venue(session, actor, venue_id):
        raise Forbidden("you are not a scanner for this venue")

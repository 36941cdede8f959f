"""Who may do what: venue admins manage only their venues, scanners scan only for theirs.

Rule of thumb for answers: an object the caller may not even see (another
venue's draft) is a 404; an object they can see but not change is a 403.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden
from core.models import Role, VenueStaff


class Actor(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...


async def venue_role(session: AsyncSession, actor: Actor | None, venue_id: int) -> str | None:
    """'admin' for platform admins, else the actor's staff role at the venue, else None."""
    if actor is None:
        return None
    if actor.role == Role.ADMIN:
        return Role.ADMIN
    role: str | None = await session.scalar(
        select(VenueStaff.role).where(
            VenueStaff.venue_id == venue_id, VenueStaff.user_id == actor.id
        )
    )
    return role


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

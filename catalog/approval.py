"""Venue approval: with TICKETQ_VENUE_APPROVAL=required, a venue a fan creates may set up
drafts, tiers and drops, but publishes (and so sells) only once a platform admin approves.

Publishing is the one gate: a drop is visible, and a fan can join or pay, only for a
published event (docs/architecture.md, "Who may see a drop"), so a venue that cannot
publish cannot sell.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor
from catalog.changes import commit_with_audit
from catalog.venues import get_venue
from core.errors import Conflict, Forbidden
from core.models import Approval, Role, Venue


def require_approved(venue: Venue) -> None:
    if venue.approval == Approval.PENDING:
        raise Conflict(
            "this venue is waiting for a platform admin's approval; its events can be "
            "published once it is approved"
        )
    if venue.approval == Approval.REJECTED:
        raise Conflict("a platform admin declined this venue; its events cannot be published")


async def decide_venue(
    session: AsyncSession, actor: Actor, venue_id: int, *, approve: bool
) -> Venue:
    """A platform admin approves (from pending or rejected) or rejects (a pending venue)."""
    if actor.role != Role.ADMIN:
        raise Forbidden("only platform admins approve or reject venues")
    venue = await get_venue(session, venue_id)
    if not approve and venue.approval == Approval.APPROVED:
        # It may be selling already; stopping a live venue is a different, louder act.
        raise Conflict("this venue is already approved; it cannot be rejected")
    previous = venue.approval
    venue.approval = Approval.APPROVED if approve else Approval.REJECTED
    await commit_with_audit(
        session, actor, "venue.approve" if approve else "venue.reject", ("venue", venue.id),
        previous=previous,
    )
    return venue

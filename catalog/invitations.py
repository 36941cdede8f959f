"""Staff invitations: a venue admin offers a role, the person with that email accepts.

Nothing a venue admin does changes another account: inviting writes an invitation and
an email; only the account whose email the invitation names, holding the token from
that email, turns it into a venue_staff row. The token proves the mailbox (an account
with an unconfirmed email address cannot accept what it never received); the email
match keeps a forwarded or leaked link useless to any other account.

Answers: an invitation that is not yours is 404 (no probing of others' invitations); a
wrong token 403; expired or revoked 410; already accepted or declined 409.
Services own their transactions and take `now` as an argument.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.users import normalise_email
from catalog.authz import Actor, require_venue_admin
from catalog.changes import commit_with_audit
from catalog.models import VenueInvitation
from catalog.venues import get_venue
from core.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from core.models import Role, Venue, VenueStaff

INVITATION_TTL = timedelta(days=7)
STAFF_ROLES = frozenset({Role.VENUE_ADMIN, Role.SCANNER})
# Each invitation sends an email to any address a venue admin types: a bound keeps a
# venue (even a pending one) from turning TicketQ into a mailer for spam.
MAX_PENDING_PER_VENUE = 50


class Invitee(Actor, Protocol):
    @property
    def email(self) -> str: ...

    @property
    def email_verified(self) -> bool: ...


# Anyone can sign up with any address; until it is verified, the account has not shown
# it reads that mailbox, so it sees no invitation to it and declines none without the
# emailed token (accepting always needs the token).
UNVERIFIED_DECLINE = ("confirm your email address first, or decline from the link in the "
                      "invitation email")


@dataclass(frozen=True)
class InvitationNotice:
    """What the invitation email says, as plain values (catalog does not know mail)."""

    invitation_id: int
    to_address: str
    venue: Venue
    role: str
    invited_by: int
    token: str
    expires_at: datetime


# Called inside the inviting transaction, before commit (the gateway passes the mail
# cause), so the invitation and its email commit or roll back together.
Notify = Callable[[AsyncSession, InvitationNotice], Awaitable[None]]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _pending(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        VenueInvitation.accepted_at.is_(None),
        VenueInvitation.declined_at.is_(None),
        VenueInvitation.revoked_at.is_(None),
        VenueInvitation.expires_at > now,
    )


async def invite_staff(
    session: AsyncSession, actor: Actor, *, venue_id: int, email: str, role: str,
    now: datetime, notify: Notify,
) -> VenueInvitation:
    """Invite `email` to be `role` at the venue, whether or not an account has it (the
    answer and the work are the same, so inviting is no oracle for which emails have
    accounts). A new invitation replaces a pending one for the same email and venue."""
    venue = await get_venue(session, venue_id)
    await require_venue_admin(session, actor, venue_id)
    if role not in STAFF_ROLES:
        raise Invalid("role must be 'venue_admin' or 'scanner'")
    address = normalise_email(email)
    # Through the ORM, not a bulk UPDATE: a row already in this session must see it too.
    for earlier in await session.scalars(
        select(VenueInvitation).where(VenueInvitation.venue_id == venue_id,
                                      VenueInvitation.email == address, *_pending(now))
    ):
        earlier.revoked_at = now
    pending = await session.scalar(
        select(func.count()).select_from(VenueInvitation)
        .where(VenueInvitation.venue_id == venue_id, *_pending(now)))
    if (pending or 0) >= MAX_PENDING_PER_VENUE:
        raise Conflict(f"this venue already has {MAX_PENDING_PER_VENUE} pending invitations; "
                       "revoke some or wait for answers")
    token = secrets.token_urlsafe(32)
    invitation = VenueInvitation(
        venue_id=venue_id, email=address, role=role, token_hash=token_hash(token),
        invited_by=actor.id, expires_at=now + INVITATION_TTL,
    )
    session.add(invitation)
    await session.flush()
    await notify(session, InvitationNotice(
        invitation.id, address, venue, role, actor.id, token, invitation.expires_at))
    await commit_with_audit(
        session, actor, "venue.staff.invite", ("venue", venue_id),
        invitation_id=invitation.id, role=role,
    )
    return invitation


async def venue_invitations(
    session: AsyncSession, actor: Actor, venue_id: int, *, now: datetime
) -> list[VenueInvitation]:
    """The venue's pending invitations, for its admins."""
    await get_venue(session, venue_id)
    await require_venue_admin(session, actor, venue_id)
    rows = await session.scalars(
        select(VenueInvitation)
        .where(VenueInvitation.venue_id == venue_id, *_pending(now))
        .order_by(VenueInvitation.id)
    )
    return list(rows)


async def revoke_invitation(
    session: AsyncSession, actor: Actor, *, venue_id: int, invitation_id: int, now: datetime
) -> VenueInvitation:
    await get_venue(session, venue_id)
    await require_venue_admin(session, actor, venue_id)
    invitation = await session.get(VenueInvitation, invitation_id)
    if invitation is None or invitation.venue_id != venue_id:
        raise NotFound("no such invitation at this venue")
    _check_open(invitation, now)
    invitation.revoked_at = now
    await commit_with_audit(
        session, actor, "venue.staff.revoke", ("venue", venue_id), invitation_id=invitation.id
    )
    return invitation


@dataclass(frozen=True)
class MyInvitation:
    invitation: VenueInvitation
    venue: Venue


async def my_invitations(session: AsyncSession, actor: Invitee, *, now: datetime
                         ) -> list[MyInvitation]:
    if not actor.email_verified:
        return []
    rows = await session.execute(
        select(VenueInvitation, Venue)
        .join(Venue, Venue.id == VenueInvitation.venue_id)
        .where(VenueInvitation.email == normalise_email(actor.email), *_pending(now))
        .order_by(VenueInvitation.id)
    )
    return [MyInvitation(invitation, venue) for invitation, venue in rows]


async def accept_invitation(
    session: AsyncSession, actor: Invitee, *, invitation_id: int, token: str, now: datetime
) -> VenueStaff:
    """Make the actor staff of the invitation's venue, with its role (a venue_staff row;
    the account's own role is untouched). An invitation only ever raises a role: a venue
    admin who accepts a scanner invitation stays admin (lowering someone is an explicit
    staff change, where the last-admin rule applies)."""
    invitation = await _own_invitation(session, actor, invitation_id)
    if not hmac.compare_digest(invitation.token_hash, token_hash(token)):
        raise Forbidden("this is not the link from the invitation email; open that link")
    _check_open(invitation, now)
    staff = await session.get(VenueStaff, (invitation.venue_id, actor.id))
    if staff is None:
        staff = VenueStaff(venue_id=invitation.venue_id, user_id=actor.id, role=invitation.role)
        session.add(staff)
    elif staff.role != Role.VENUE_ADMIN:
        staff.role = invitation.role
    invitation.accepted_at = now
    invitation.accepted_by = actor.id
    await commit_with_audit(
        session, actor, "venue.staff.accept", ("venue", invitation.venue_id),
        invitation_id=invitation.id, role=staff.role,
    )
    return staff


async def decline_invitation(
    session: AsyncSession, actor: Invitee, *, invitation_id: int, now: datetime,
    token: str | None = None,
) -> VenueInvitation:
    invitation = await _own_invitation(session, actor, invitation_id)
    if not actor.email_verified and not (
            token is not None and hmac.compare_digest(invitation.token_hash, token_hash(token))):
        raise Forbidden(UNVERIFIED_DECLINE)
    _check_open(invitation, now)
    invitation.declined_at = now
    await commit_with_audit(
        session, actor, "venue.staff.decline", ("venue", invitation.venue_id),
        invitation_id=invitation.id,
    )
    return invitation


async def _own_invitation(
    session: AsyncSession, actor: Invitee, invitation_id: int
) -> VenueInvitation:
    invitation = await session.get(VenueInvitation, invitation_id)
    if invitation is None or invitation.email != normalise_email(actor.email):
        raise NotFound("no such invitation for this account")
    return invitation


def _check_open(invitation: VenueInvitation, now: datetime) -> None:
    if invitation.accepted_at is not None:
        raise Conflict("this invitation was already accepted")
    if invitation.declined_at is not None:
        raise Conflict("this invitation was declined")
    if invitation.revoked_at is not None:
        raise Gone("the venue withdrew this invitation; ask them for a new one")
    if invitation.expires_at <= now:
        raise Gone("this invitation has expired; ask the venue for a new one")

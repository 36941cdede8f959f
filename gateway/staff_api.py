"""Venue staff by invitation, and venue approval by platform admins (docs/security.md,
"Venues and staff"). Catalogue rules live in catalog/invitations.py and approval.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import catalog
from catalog.models import VenueInvitation
from gateway.auth import require_user
from gateway.bodies import StrictBody, read_json, read_optional_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.schemas import catalog as schemas
from gateway.serialize import iso, venue_json
from mail import causes


class StaffBody(StrictBody):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    role: Literal["venue_admin", "scanner"]


class AcceptBody(StrictBody):
    # The token from the invitation email's link (its #token= part).
    token: Annotated[str, Field(min_length=1, max_length=200)]


class DeclineBody(StrictBody):
    # Optional: the invitation email's token, for an account whose address is unverified.
    token: Annotated[str | None, Field(min_length=1, max_length=200)] = None


def _now(request: Request) -> datetime:
    moment: datetime = services_of(request).clock()
    return moment


def invitation_state(invitation: VenueInvitation, now: datetime) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.declined_at is not None:
        return "declined"
    if invitation.revoked_at is not None:
        return "revoked"
    return "expired" if invitation.expires_at <= now else "pending"


def invitation_json(invitation: VenueInvitation, now: datetime) -> dict[str, Any]:
    return {"id": invitation.id, "venue_id": invitation.venue_id, "email": invitation.email,
            "role": invitation.role, "state": invitation_state(invitation, now),
            "created_at": iso(invitation.created_at), "expires_at": iso(invitation.expires_at)}


def _mailer(request: Request) -> catalog.Notify:
    """The invitation email, enqueued in the inviting transaction, with the accept link."""
    settings = services_of(request).settings
    base = str(settings.public_url or request.base_url).rstrip("/")

    async def send(session: AsyncSession, notice: catalog.InvitationNotice) -> None:
        # The token rides in the fragment: browsers never send it to a server or a log.
        url = f"{base}/venue#invitation={notice.invitation_id}&token={notice.token}"
        await causes.staff_invitation(
            session, invitation_id=notice.invitation_id, to_address=notice.to_address,
            venue_id=notice.venue.id, role=notice.role, invited_by=notice.invited_by,
            accept_url=url, expires_at=notice.expires_at)

    return send


@documented(body=StaffBody, response=schemas.Staff, auth="venue_admin", status=202)
async def invite_staff(request: Request) -> Response:
    """Invite an email address to be a venue_admin or scanner of this venue.

    202 with the same body whether or not an account has the email (no account
    enumeration). Nothing changes until that account accepts the emailed invitation."""
    user = await require_user(request)
    venue_id: int = request.path_params["venue_id"]
    body = await read_json(request, StaffBody)
    async with services_of(request).sessionmaker() as session:
        await catalog.invite_staff(session, user, venue_id=venue_id, email=body.email,
                                   role=body.role, now=_now(request), notify=_mailer(request))
    return JSONResponse(
        {"venue_id": venue_id, "email": body.email.strip().lower(), "role": body.role,
         "detail": "an invitation was emailed to this address; the role starts once "
                   "its owner signs in and accepts it"},
        status_code=202,
    )


@documented(response=schemas.InvitationList, auth="venue_admin")
async def venue_invitations(request: Request) -> Response:
    """The venue's pending staff invitations."""
    user = await require_user(request)
    now = _now(request)
    async with services_of(request).sessionmaker() as session:
        rows = await catalog.venue_invitations(
            session, user, request.path_params["venue_id"], now=now)
    return JSONResponse({"invitations": [invitation_json(row, now) for row in rows]})


@documented(response=schemas.Invitation, auth="venue_admin")
async def revoke_invitation(request: Request) -> Response:
    """Withdraw a pending invitation (its link stops working)."""
    user = await require_user(request)
    now = _now(request)
    async with services_of(request).sessionmaker() as session:
        invitation = await catalog.revoke_invitation(
            session, user, venue_id=request.path_params["venue_id"],
            invitation_id=request.path_params["invitation_id"], now=now)
    return JSONResponse(invitation_json(invitation, now))


@documented(response=schemas.StaffList, auth="venue_admin")
async def list_staff(request: Request) -> Response:
    """The venue's staff: who they are and their role (for the venue page's Remove)."""
    user = await require_user(request)
    async with services_of(request).sessionmaker() as session:
        rows = await catalog.list_staff(session, user, request.path_params["venue_id"])
    return JSONResponse({"staff": [{"user_id": row.user_id, "email": row.email, "name": row.name,
                                    "role": row.role} for row in rows]})


@documented(response=schemas.StaffMember, auth="venue_admin")
async def remove_staff(request: Request) -> Response:
    """End an account's role at this venue (never its last venue_admin)."""
    user = await require_user(request)
    venue_id: int = request.path_params["venue_id"]
    user_id: int = request.path_params["user_id"]
    async with services_of(request).sessionmaker() as session:
        role = await catalog.remove_staff(session, user, venue_id=venue_id, user_id=user_id)
    return JSONResponse({"venue_id": venue_id, "user_id": user_id, "role": role})


@documented(response=schemas.MyInvitationList, auth="user")
async def my_invitations(request: Request) -> Response:
    """Pending invitations to the caller's email address."""
    user = await require_user(request)
    async with services_of(request).sessionmaker() as session:
        rows = await catalog.my_invitations(session, user, now=_now(request))
    return JSONResponse({"invitations": [
        {"id": row.invitation.id, "role": row.invitation.role,
         "expires_at": iso(row.invitation.expires_at),
         "venue": {"id": row.venue.id, "name": row.venue.name, "city": row.venue.city}}
        for row in rows]})


@documented(body=AcceptBody, response=schemas.StaffMember, auth="user")
async def accept_invitation(request: Request) -> Response:
    """Accept an invitation to your email address, with the token from its email."""
    user = await require_user(request)
    body = await read_json(request, AcceptBody)
    async with services_of(request).sessionmaker() as session:
        staff = await catalog.accept_invitation(
            session, user, invitation_id=request.path_params["invitation_id"],
            token=body.token, now=_now(request))
    return JSONResponse({"venue_id": staff.venue_id, "user_id": staff.user_id,
                         "role": staff.role})


@documented(body=DeclineBody, body_optional=True, response=schemas.Invitation, auth="user")
async def decline_invitation(request: Request) -> Response:
    """Decline an invitation to your email address.

    An account whose address is not verified yet sends the invitation email's token.
    """
    user = await require_user(request)
    body = await read_optional_json(request, DeclineBody)
    now = _now(request)
    async with services_of(request).sessionmaker() as session:
        invitation = await catalog.decline_invitation(
            session, user, invitation_id=request.path_params["invitation_id"], now=now,
            token=body.token if body else None)
    return JSONResponse(invitation_json(invitation, now))


async def _decide(request: Request, *, approve: bool) -> Response:
    user = await require_user(request)
    async with services_of(request).sessionmaker() as session:
        venue = await catalog.decide_venue(
            session, user, request.path_params["venue_id"], approve=approve)
    return JSONResponse(venue_json(venue))


@documented(response=schemas.Venue, auth="admin")
async def approve_venue(request: Request) -> Response:
    """Approve a venue so it may publish events (platform admins only)."""
    return await _decide(request, approve=True)


@documented(response=schemas.Venue, auth="admin")
async def reject_venue(request: Request) -> Response:
    """Reject a pending venue: it keeps its drafts and can never publish (admins only)."""
    return await _decide(request, approve=False)


VENUE = "/api/venues/{venue_id:id}"
INVITATION = "/api/invitations/{invitation_id:id}"
routes = [
    Route(f"{VENUE}/staff", invite_staff, methods=["POST"]),
    Route(f"{VENUE}/staff", list_staff, methods=["GET"]),
    Route(f"{VENUE}/staff/{{user_id:id}}", remove_staff, methods=["DELETE"]),
    Route(f"{VENUE}/invitations", venue_invitations, methods=["GET"]),
    Route(f"{VENUE}/invitations/{{invitation_id:id}}", revoke_invitation, methods=["DELETE"]),
    Route(f"{VENUE}/approve", approve_venue, methods=["POST"]),
    Route(f"{VENUE}/reject", reject_venue, methods=["POST"]),
    Route("/api/me/invitations", my_invitations, methods=["GET"]),
    Route(f"{INVITATION}/accept", accept_invitation, methods=["POST"]),
    Route(f"{INVITATION}/decline", decline_invitation, methods=["POST"]),
]

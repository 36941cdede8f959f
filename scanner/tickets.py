"""A fan's tickets, their live QR codes, and reissuing a ticket (which revokes the old one)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import segno
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor, require_venue_admin
from catalog.event_images import event_image_url
from core import audit
from core.errors import Conflict, Gone, NotFound
from core.models import Event, Ticket, TicketTier, User, Venue
from scanner.codes import current_code, seconds_left, time_step
from scanner.keyring import KeyRing, active_key_id
from scanner.models import CheckIn
from scanner.payload import TicketClaims, encode


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def is_ticket_id(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


async def fan_tickets(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(Ticket, Event, TicketTier, Venue, CheckIn.scanned_at, User.name)
        .join(Event, Event.id == Ticket.event_id)
        .join(User, User.id == Ticket.user_id)
        .join(TicketTier, TicketTier.id == Ticket.tier_id)
        .join(Venue, Venue.id == Event.venue_id)
        .outerjoin(CheckIn, CheckIn.ticket_id == Ticket.id)
        .where(Ticket.user_id == user_id)
        .order_by(Event.starts_at, Ticket.created_at, Ticket.id))
    return [
        {"id": ticket.id, "status": ticket.status, "order_id": ticket.order_id,
         "holder": holder,
         "event": {"id": event.id, "title": event.title, "starts_at": _iso(event.starts_at),
                   "venue": venue.name, "city": venue.city, "timezone": venue.timezone,
                   "image_url": event_image_url(event)},
         "tier": {"id": tier.id, "name": tier.name}, "checked_in_at": _iso(scanned_at)}
        for ticket, event, tier, venue, scanned_at, holder in rows
    ]


def render_svg(payload: str) -> str:
    """The QR as inline SVG; segno picks alphanumeric mode for the Base32 text."""
    qr = segno.make(payload, error="m", micro=False)
    return str(qr.svg_inline(scale=5, border=4, dark="#000", light="#fff"))


async def live_code(session: AsyncSession, keyring: KeyRing, user_id: int, ticket_id: str, *,
                    now: datetime, period_s: int) -> dict[str, Any]:
    """The ticket's QR for this period (only for its holder)."""
    ticket = await session.get(Ticket, ticket_id) if is_ticket_id(ticket_id) else None
    if ticket is None or ticket.user_id != user_id:
        raise NotFound("no such ticket")
    if ticket.status != "valid":
        raise Gone(f"this ticket was {ticket.status}; it no longer opens the door")
    key_id = await active_key_id(session, ticket.event_id)
    await session.commit()
    claims = TicketClaims(key_id=key_id, ticket_id=ticket.id, event_id=ticket.event_id,
                          tier_id=ticket.tier_id)
    code = current_code(keyring.code_secret(ticket.id), now, period_s)
    payload = encode(claims, keyring.sign(claims), code)
    return {"ticket_id": ticket.id, "payload": payload, "svg": render_svg(payload),
            "manual_code": f"{ticket.id[:8]}-{code:06d}", "period_s": period_s,
            "step": time_step(now, period_s),
            "refresh_in_ms": int(seconds_left(now, period_s) * 1000)}


async def reissue_ticket(session: AsyncSession, actor: Actor, ticket_id: str) -> Ticket:
    """Replace a ticket with a new id; the old one joins the event's revocation list."""
    ticket = await session.get(Ticket, ticket_id, with_for_update=True) \
        if is_ticket_id(ticket_id) else None
    if ticket is None:
        raise NotFound("no such ticket")
    event = await session.get(Event, ticket.event_id)
    assert event is not None
    await require_venue_admin(session, actor, event.venue_id)
    if ticket.status != "valid":
        raise Conflict(f"this ticket is already {ticket.status}")
    if await session.get(CheckIn, ticket.id) is not None:
        raise Conflict("this ticket has already been used at the door")
    ticket.status = "cancelled"
    replacement = Ticket(id=str(uuid.uuid4()), order_id=ticket.order_id, event_id=ticket.event_id,
                         tier_id=ticket.tier_id, user_id=ticket.user_id, status="valid")
    session.add(replacement)
    audit.record(session, actor_user_id=actor.id, action="ticket.reissue", subject_type="ticket",
                 subject_id=ticket.id, details={"replacement": replacement.id})
    await session.commit()
    return replacement

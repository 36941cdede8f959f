"""An order's tickets as a PDF: one A4 page per valid ticket, with its printed QR code.

The QR on paper cannot rotate, so it is the ticket's *printed* code (payload format 2,
scanner/payload.py): signed like the phone code, with no rotating code, accepted at the
door only where the event allows printed codes (`events.static_codes_allowed`). For an
event that admits only phone codes the page says so and carries no QR at all, so a fan
never brings a code the door will refuse.

Refunded, cancelled and reissued tickets are left out (they no longer open the door);
an order with no valid ticket left, or not paid, has no PDF (Conflict, 409).

fpdf2's built-in fonts (Helvetica) cover Latin-1 only; other characters in a name or
title are shown as their Latin-1 base letter where Unicode has one (é stays, ź -> z) and
as "?" otherwise (ł, 李), so no font file has to ship with TicketQ.
"""

from __future__ import annotations

import asyncio
import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import segno
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.authz import Actor, can_manage_venue
from core.errors import Conflict, NotFound
from core.models import Event, Order, Ticket, TicketTier, User, Venue
from mail.attachments import Renderer
from mail.messages import EventFacts
from scanner.keyring import KeyRing, active_key_id
from scanner.payload import TicketClaims, encode
from scanner.tickets import is_ticket_id

PHONE_ONLY_NOTE = ("This event admits only the live code in the TicketQ app. Open My tickets "
                   "on your phone at the door; this page is your receipt, not your entry.")
PRINTED_NOTE = ("Print this page or show it on a screen. The code admits one person once; "
                "keep it private.")


@dataclass(frozen=True)
class PrintedTicket:
    ticket_id: str
    tier: str
    payload: str | None  # the printed QR payload; None where only phone codes are admitted


@dataclass(frozen=True)
class OrderTickets:
    """What the pages show: plain values, read once."""

    order_id: str
    event: EventFacts
    venue_city: str
    holder_name: str
    tickets: list[PrintedTicket]


def printed_payload(keyring: KeyRing, claims: TicketClaims) -> str:
    """The static QR text of a ticket (its claims with `static=True`)."""
    assert claims.static
    return encode(claims, keyring.sign(claims), 0)


def _latin1(text: str) -> str:
    """Text the core PDF fonts can show (see the module docstring)."""
    shown = []
    for char in text:
        if ord(char) < 256:
            shown.append(char)
            continue
        base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        shown.append(base or "?")
    return "".join(shown)


async def read_order_tickets(session: AsyncSession, keyring: KeyRing,
                             order_id: str) -> OrderTickets:
    """The order's valid tickets with their printed codes (no authorisation: callers do it)."""
    order = await session.get(Order, order_id) if is_ticket_id(order_id) else None
    if order is None:
        raise NotFound("no such order")
    if order.state != "paid":
        raise Conflict(f"this order is {order.state}; it has no tickets to print")
    event = await session.get(Event, order.event_id)
    holder = await session.get(User, order.user_id)
    assert event is not None and holder is not None
    venue = await session.get(Venue, event.venue_id)
    assert venue is not None
    rows = (await session.execute(
        select(Ticket.id, Ticket.tier_id, TicketTier.name)
        .join(TicketTier, TicketTier.id == Ticket.tier_id)
        .where(Ticket.order_id == order.id, Ticket.status == "valid")
        .order_by(Ticket.created_at, Ticket.id))).all()
    if not rows:
        raise Conflict("no ticket of this order is valid any more (refunded or reissued)")
    key_id = await active_key_id(session, event.id)
    await session.commit()
    tickets = []
    for ticket_id, tier_id, tier_name in rows:
        payload = None
        if event.static_codes_allowed:
            payload = printed_payload(keyring, TicketClaims(
                key_id=key_id, ticket_id=ticket_id, event_id=event.id, tier_id=tier_id,
                static=True))
        tickets.append(PrintedTicket(ticket_id=ticket_id, tier=tier_name, payload=payload))
    facts = EventFacts(title=event.title, venue_name=venue.name, starts_at=event.starts_at,
                       timezone=venue.timezone)
    return OrderTickets(order_id=order.id, event=facts, venue_city=venue.city,
                        holder_name=holder.name, tickets=tickets)


async def viewable_order_tickets(session: AsyncSession, keyring: KeyRing, actor: Actor,
                                 order_id: str) -> OrderTickets:
    """For the order's holder and the event venue's admins; 404 for everyone else."""
    order = await session.get(Order, order_id) if is_ticket_id(order_id) else None
    if order is None:
        raise NotFound("no such order")
    if order.user_id != actor.id:
        event = await session.get(Event, order.event_id)
        assert event is not None
        if not await can_manage_venue(session, actor, event.venue_id):
            raise NotFound("no such order")
    return await read_order_tickets(session, keyring, order_id)


def _qr_png(payload: str) -> io.BytesIO:
    # A PNG image (not vector paths), so the code can be pulled out of the PDF again.
    png = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(png, kind="png", scale=10, border=4)
    png.seek(0)
    return png


def _page(pdf: FPDF, order: OrderTickets, ticket: PrintedTicket, number: int) -> None:
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=22)
    pdf.multi_cell(0, 10, _latin1(order.event.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=13)
    lines = [
        f"{order.event.venue_name}, {order.venue_city}",
        order.event.starts_local,
        f"Tier: {ticket.tier}",
        f"Holder: {order.holder_name}",
        f"Order: {order.order_id}",
        f"Ticket {number} of {len(order.tickets)}: {ticket.ticket_id}",
    ]
    for line in lines:
        pdf.multi_cell(0, 7, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    if ticket.payload is not None:
        pdf.image(_qr_png(ticket.payload), x=55, w=100, h=100)
        pdf.ln(4)
        note = PRINTED_NOTE
    else:
        note = PHONE_ONLY_NOTE
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, note, new_x="LMARGIN", new_y="NEXT")


def render_pdf(order: OrderTickets) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"Tickets: {order.event.title}"))
    pdf.set_creator("TicketQ")
    pdf.set_auto_page_break(auto=False)
    for number, ticket in enumerate(order.tickets, start=1):
        _page(pdf, order, ticket, number)
    return bytes(pdf.output())


def tickets_pdf_renderer(sessionmaker: async_sessionmaker[AsyncSession],
                         keyring: KeyRing) -> Renderer:
    """The mail sender's `tickets_pdf` renderer (mail/attachments.py): the PDF of the
    entry's order as it is at send time. The mail goes to the order's holder, so no
    actor is checked."""
    async def render(entry: Mapping[str, Any]) -> bytes:
        async with sessionmaker() as session:
            order = await read_order_tickets(session, keyring, str(entry["order_id"]))
        return await asyncio.to_thread(render_pdf, order)  # CPU: off the worker's loop
    return render

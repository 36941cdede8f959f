"""The tickets PDF itself: pages from plain values, names outside Latin-1, phone-only
events, and the mail sender's renderer reading an order from the real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from core.errors import NotFound
from core.models import Ticket
from gateway.context import app_services
from mail.messages import EventFacts
from scanner.keyring import KeyRing
from scanner.payload import TicketClaims, decode
from scanner.ticket_pdf import (
    PHONE_ONLY_NOTE,
    OrderTickets,
    PrintedTicket,
    _latin1,
    printed_payload,
    render_pdf,
    tickets_pdf_renderer,
)
from tests.scanner.factory import issue, make_door
from tests.support.pdf_qr import page_qr_payloads, page_texts

RING = KeyRing(bytes(range(32)))
EVENT = EventFacts(title="Nuit Blanche", venue_name="Halle", timezone="Europe/Paris",
                   starts_at=datetime(2026, 12, 31, 21, 30, tzinfo=UTC))


def _order(holder: str, *payloads: str | None) -> OrderTickets:
    tickets = [PrintedTicket(ticket_id=str(uuid.UUID(int=n + 1)), tier="GA", payload=payload)
               for n, payload in enumerate(payloads)]
    return OrderTickets(order_id=str(uuid.UUID(int=99)), event=EVENT, venue_city="Lyon",
                        holder_name=holder, tickets=tickets)


def _printed(n: int) -> str:
    claims = TicketClaims(key_id=1, ticket_id=str(uuid.UUID(int=n)), event_id=7, tier_id=3,
                          static=True)
    return printed_payload(RING, claims)


def test_each_ticket_has_its_page_and_its_code_in_the_venue_local_time() -> None:
    pdf = render_pdf(_order("Zoë Durand", _printed(1), _printed(2), _printed(3)))
    texts = page_texts(pdf)
    assert len(texts) == 3
    # 21:30 UTC on New Year's Eve is 22:30 in Lyon.
    assert all("Thursday 31 December 2026, 22:30 CET" in text for text in texts)
    assert all("Holder: Zoë Durand" in text and "Halle, Lyon" in text for text in texts)
    assert "Ticket 2 of 3" in texts[1]
    assert page_qr_payloads(pdf) == [[_printed(1)], [_printed(2)], [_printed(3)]]
    assert RING.verify(decode(_printed(2)).claims, decode(_printed(2)).signature)


def test_names_beyond_latin1_are_shown_as_near_as_the_core_fonts_can() -> None:
    assert _latin1("Zoë") == "Zoë"
    assert _latin1("Łukasz Żółć") == "?ukasz Zó?c"  # ł has no Latin-1 base letter
    assert _latin1("李小龍") == "???"
    [text] = page_texts(render_pdf(_order("李 Łukasz", _printed(1))))
    assert "Holder: ? ?ukasz" in text


def test_a_phone_only_event_gets_pages_without_a_code() -> None:
    pdf = render_pdf(_order("Fay", None, None))
    assert page_qr_payloads(pdf) == [[], []]
    assert all(PHONE_ONLY_NOTE.split(".")[0] in " ".join(text.split())
               for text in page_texts(pdf))


def test_the_printed_payload_is_refused_for_phone_claims() -> None:
    with pytest.raises(AssertionError):
        printed_payload(RING, TicketClaims(key_id=1, ticket_id=str(uuid.UUID(int=1)),
                                           event_id=7, tier_id=3))


async def test_the_mail_renderer_prints_the_order_as_it_is_at_send_time(
        app: Starlette, client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    tickets = await issue(sessionmaker, door, count=2)
    async with sessionmaker() as session:
        order_id = await session.scalar(select(Ticket.order_id).where(Ticket.id == tickets[0]))
    assert order_id is not None
    render = tickets_pdf_renderer(sessionmaker, app_services(app).ticket_keyring)
    pdf = await render({"order_id": order_id})
    assert sorted(decode(text).claims.ticket_id for [text] in page_qr_payloads(pdf)) == \
        sorted(tickets)
    with pytest.raises(NotFound):
        await render({"order_id": str(uuid.uuid4())})

"""GET /api/orders/{id}/tickets.pdf against the real gateway and Postgres: who gets it, one
page per valid ticket, and a QR (pulled out of the PDF, decoded by zxing-cpp) that the
real scanner API admits once, and refuses once the event admits only phone codes."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Event, Ticket
from scanner.payload import decode
from tests.scanner.factory import (
    Door,
    add_scanner,
    issue,
    live_payload,
    make_door,
    scan_body,
    set_status,
)
from tests.support.api import create_drop_setup, sign_up
from tests.support.pdf_qr import page_qr_payloads, page_texts


async def _order_of(sessionmaker: async_sessionmaker[AsyncSession], ticket_id: str) -> str:
    async with sessionmaker() as session:
        order_id = await session.scalar(select(Ticket.order_id).where(Ticket.id == ticket_id))
    assert order_id is not None
    return order_id


def _url(order_id: str) -> str:
    return f"/api/orders/{order_id}/tickets.pdf"


async def _pdf(client: httpx.AsyncClient, door: Door, order_id: str) -> bytes:
    response = await client.get(_url(order_id), headers=door.fan.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert f'filename="tickets-{order_id[:8]}.pdf"' in response.headers["content-disposition"]
    return response.content


async def _scan(client: httpx.AsyncClient, door: Door, payload: str) -> dict[str, object]:
    response = await client.post("/api/scan", headers=door.scanner.headers,
                                 json=scan_body(payload, event_id=door.event_id))
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


async def test_one_page_per_ticket_with_event_venue_local_time_tier_holder_and_order(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    tickets = await issue(sessionmaker, door, tier="VIP", count=2)
    order_id = await _order_of(sessionmaker, tickets[0])
    pdf = await _pdf(client, door, order_id)
    assert pdf.startswith(b"%PDF-")
    texts = page_texts(pdf)
    assert len(texts) == 2
    async with sessionmaker() as session:
        event = await session.get(Event, door.event_id)
    assert event is not None
    local = event.starts_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%d %B %Y, %H:%M")
    for text in texts:
        assert "Show" in text and "Hall, Lyon" in text and local in text
        assert "Tier: VIP" in text and "Holder: Fan" in text and order_id in text
    assert sorted(sum(ticket in text for text in texts) for ticket in tickets) == [1, 1]
    payloads = page_qr_payloads(pdf)
    assert [len(codes) for codes in payloads] == [1, 1]
    assert {decode(codes[0]).claims.ticket_id for codes in payloads} == set(tickets)


async def test_the_printed_qr_is_admitted_once_by_the_real_scanner(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    [[printed]] = page_qr_payloads(await _pdf(client, door, await _order_of(sessionmaker, ticket)))
    assert decode(printed).claims.static
    first = await _scan(client, door, printed)
    assert (first["result"], first["ticket_id"]) == ("valid", ticket)
    second = await _scan(client, door, printed)
    assert second["result"] == "duplicate" and second["first_gate"] == "North"


async def test_a_phone_only_event_refuses_the_printed_code_and_admits_the_live_one(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    order_id = await _order_of(sessionmaker, ticket)
    [[printed]] = page_qr_payloads(await _pdf(client, door, order_id))
    refused = await client.put(f"/api/events/{door.event_id}/door-codes",
                               headers=door.setup.admin.headers,
                               json={"static_codes_allowed": False})
    assert refused.status_code == 200, refused.text
    answer = await _scan(client, door, printed)
    assert answer["result"] == "invalid"
    assert "printed ticket" in str(answer["reason"]) and "app" in str(answer["reason"])
    live = await _scan(client, door, await live_payload(client, door.fan, ticket))
    assert (live["result"], live["ticket_id"]) == ("valid", ticket)
    # A PDF made now carries no code the door would refuse, and says what to do instead.
    again = await _pdf(client, door, order_id)
    assert page_qr_payloads(again) == [[]]
    assert "live code in the TicketQ app" in page_texts(again)[0].replace("\n", " ")


async def test_holder_and_venue_admins_only(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    url = _url(await _order_of(sessionmaker, ticket))
    admin = await client.get(url, headers=door.setup.admin.headers)
    assert admin.status_code == 200 and admin.content.startswith(b"%PDF-")
    other_fan = await sign_up(client, "nosy")
    scanner = await add_scanner(client, door.setup, "doorstaff")
    other_venue = (await create_drop_setup(client)).admin
    for stranger in (other_fan, scanner, other_venue, door.scanner):
        seen = await client.get(url, headers=stranger.headers)
        assert seen.status_code == 404, seen.text
        assert seen.headers["content-type"] == "application/problem+json"
    anonymous = await client.get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"


async def test_bad_and_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    fan = await sign_up(client)
    for order_id in ("not-a-uuid", "123", str(uuid.uuid4())):
        response = await client.get(_url(order_id), headers=fan.headers)
        assert response.status_code == 404, (order_id, response.text)
    assert (await client.post(_url(str(uuid.uuid4())), headers=fan.headers)).status_code == 405


async def test_refunded_tickets_are_left_out_and_none_left_is_409(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    kept, refunded = await issue(sessionmaker, door, count=2)
    order_id = await _order_of(sessionmaker, kept)
    await set_status(sessionmaker, refunded, "refunded")
    [[printed]] = page_qr_payloads(await _pdf(client, door, order_id))
    assert decode(printed).claims.ticket_id == kept
    await set_status(sessionmaker, kept, "cancelled")
    gone = await client.get(_url(order_id), headers=door.fan.headers)
    assert gone.status_code == 409
    assert gone.headers["content-type"] == "application/problem+json"
    assert "refunded or reissued" in gone.json()["detail"]

"""PUT /api/events/{id}/door-codes: the venue chooses whether printed codes open the door;
the online scan, the bundle and offline uploads all follow it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from core.db import sqlalchemy_url
from core.models import Base, Event
from gateway.context import app_services
from scanner.keyring import active_key_id
from scanner.payload import TicketClaims
from scanner.ticket_pdf import printed_payload
from tests.scanner.factory import Door, add_scanner, issue, make_door, scan_body
from tests.support.api import sign_up


def _url(door: Door) -> str:
    return f"/api/events/{door.event_id}/door-codes"


async def _printed(app: Starlette, sessionmaker: async_sessionmaker[AsyncSession], door: Door,
                   ticket_id: str) -> str:
    async with sessionmaker() as session:
        key_id = await active_key_id(session, door.event_id)
        await session.commit()
    claims = TicketClaims(key_id=key_id, ticket_id=ticket_id, event_id=door.event_id,
                          tier_id=door.setup.tier_ids["GA"], static=True)
    return printed_payload(app_services(app).ticket_keyring, claims)


async def _allowed(sessionmaker: async_sessionmaker[AsyncSession], door: Door) -> bool:
    async with sessionmaker() as session:
        event = await session.get(Event, door.event_id)
    assert event is not None
    return event.static_codes_allowed


async def test_printed_codes_are_allowed_by_default_and_the_venue_admin_can_refuse_them(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    assert await _allowed(sessionmaker, door)
    refused = await client.put(_url(door), headers=door.setup.admin.headers,
                               json={"static_codes_allowed": False})
    assert refused.status_code == 200
    assert refused.json() == {"event_id": door.event_id, "static_codes_allowed": False}
    assert not await _allowed(sessionmaker, door)
    bundle = await client.get(f"/api/events/{door.event_id}/scanner-bundle",
                              headers=door.scanner.headers)
    assert bundle.json()["static_codes_allowed"] is False


async def test_only_the_venue_admin_may_choose_and_bad_bodies_change_nothing(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    body = {"static_codes_allowed": False}
    scanner = await add_scanner(client, door.setup, "gatekeeper")
    for account in (door.fan, scanner, await sign_up(client, "venue")):
        answer = await client.put(_url(door), headers=account.headers, json=body)
        assert answer.status_code == 403, answer.text
    assert (await client.put(_url(door), json=body)).status_code == 401
    for bad in ({"static_codes_allowed": "no"}, {"static_codes_allowed": 0}, {},
                {"static_codes_allowed": False, "extra": 1}):
        answer = await client.put(_url(door), headers=door.setup.admin.headers, json=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    missing = await client.put("/api/events/999999999/door-codes",
                               headers=door.setup.admin.headers, json=body)
    assert missing.status_code == 404
    assert await _allowed(sessionmaker, door)


async def test_offline_uploads_follow_the_event_choice(
        app: Starlette, client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    allowed_ticket, refused_ticket = await issue(sessionmaker, door, count=2)
    now = datetime.now(UTC).isoformat()

    async def upload(ticket_id: str, nonce: str) -> dict[str, object]:
        scan = {"payload": await _printed(app, sessionmaker, door, ticket_id), "gate": "G",
                "nonce": nonce, "scanned_at": now}
        response = await client.post(f"/api/events/{door.event_id}/offline-scans",
                                     headers=door.scanner.headers,
                                     json={"device_id": "door-off", "scans": [scan]})
        assert response.status_code == 200, response.text
        [result] = response.json()["results"]
        answer: dict[str, object] = result
        return answer

    admitted = await upload(allowed_ticket, "printed-offline-1")
    # A printed code has no rotating code to be stale: no screenshot warning.
    assert admitted["result"] == "valid" and admitted["reason"] is None
    await client.put(_url(door), headers=door.setup.admin.headers,
                     json={"static_codes_allowed": False})
    refused = await upload(refused_ticket, "printed-offline-2")
    assert refused["result"] == "invalid" and "printed ticket" in str(refused["reason"])


async def test_a_forged_printed_code_is_invalid_even_where_printed_codes_are_allowed(
        app: Starlette, client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    genuine = await _printed(app, sessionmaker, door, ticket)
    forged = genuine[:60] + ("A" if genuine[60] != "A" else "B") + genuine[61:]
    answer = await client.post("/api/scan", headers=door.scanner.headers,
                               json=scan_body(forged, event_id=door.event_id))
    assert answer.json()["result"] == "invalid", answer.text


def test_the_migration_builds_the_column_the_model_describes(database_url: str) -> None:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [diff for diff in compare_metadata(context, Base.metadata)
                     if "static_codes_allowed" in repr(diff)]
    finally:
        engine.dispose()
    assert diffs == []

"""Fan ticket list and live codes, the door app page, its service worker and scanner events."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scanner.payload import decode
from tests.scanner.factory import issue, make_door


async def test_fan_sees_own_tickets_with_live_codes(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    tickets = await issue(sessionmaker, door, tier="VIP", count=2)
    listed = await client.get("/api/me/tickets", headers=door.fan.headers)
    assert listed.status_code == 200
    body = listed.json()["tickets"]
    assert sorted(t["id"] for t in body) == sorted(tickets)
    assert body[0]["tier"]["name"] == "VIP" and body[0]["event"]["title"] == "Show"
    code = await client.get(f"/api/me/tickets/{tickets[0]}/code", headers=door.fan.headers)
    assert code.status_code == 200 and code.headers["cache-control"] == "no-store"
    live = code.json()
    assert live["svg"].startswith("<svg") and live["period_s"] == 15
    assert 0 < live["refresh_in_ms"] <= 15_000
    claims = decode(live["payload"]).claims
    assert claims.ticket_id == tickets[0] and claims.event_id == door.event_id
    assert (await client.get("/api/me/tickets")).status_code == 401
    assert (await client.get("/api/me/tickets/not-a-uuid/code",
                             headers=door.fan.headers)).status_code == 404
    other = await client.get(f"/api/me/tickets/{tickets[0]}/code", headers=door.scanner.headers)
    assert other.status_code == 404


async def test_pages_and_service_worker(client: httpx.AsyncClient) -> None:
    scan = await client.get("/scan")
    assert scan.status_code == 200 and "jsQR.js" in scan.text and "door.js" in scan.text
    assert "login-form" in scan.text
    mine = await client.get("/me/tickets")
    assert mine.status_code == 200 and "tickets.js" in mine.text
    worker = await client.get("/scan/sw.js")
    assert worker.headers["service-worker-allowed"] == "/scan"
    assert worker.headers["content-type"].startswith("text/javascript")
    decoder = await client.get("/static/vendor/jsqr/jsQR.js")  # from npm, see test_assets.py
    assert decoder.status_code == 200 and "jsQR" in decoder.text[:1000]


async def test_scanner_sees_only_its_venues_events(client: httpx.AsyncClient) -> None:
    door = await make_door(client)
    other = await make_door(client)
    mine = await client.get("/api/scanner/events", headers=door.scanner.headers)
    ids = {event["id"] for event in mine.json()["events"]}
    assert door.event_id in ids and other.event_id not in ids
    fan = await client.get("/api/scanner/events", headers=door.fan.headers)
    assert fan.json()["events"] == []

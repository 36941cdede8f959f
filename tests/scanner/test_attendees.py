"""scanner.attendees: one row per ticket, with the check-in once the door has admitted it."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Event
from scanner import attendees
from tests.scanner.factory import issue, live_payload, make_door, scan_body


async def test_each_ticket_is_a_row_with_its_check_in(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        monkeypatch: pytest.MonkeyPatch) -> None:
    door = await make_door(client, sessionmaker)
    tickets = await issue(sessionmaker, door, count=3)
    other = await make_door(client, sessionmaker)
    await issue(sessionmaker, other)  # another event's ticket stays out
    code = await live_payload(client, door.fan, tickets[0])
    scanned = await client.post("/api/scan", headers=door.scanner.headers,
                                json=scan_body(code, gate="West"))
    assert scanned.json()["result"] == "valid", scanned.text

    monkeypatch.setattr(attendees, "BATCH", 2)
    async with sessionmaker() as session:
        event = await session.get(Event, door.event_id)
    assert event is not None
    batches = [batch async for batch in attendees.attendee_rows(sessionmaker, event)]
    assert [len(batch) for batch in batches] == [2, 1]
    rows = {row[0]: dict(zip(attendees.HEADER, row, strict=True))
            for batch in batches for row in batch}
    assert set(rows) == set(tickets)
    assert rows[tickets[0]]["gate"] == "West" and rows[tickets[0]]["checked_in_at"] is not None
    assert rows[tickets[1]]["checked_in_at"] is None
    assert rows[tickets[1]]["holder_email"] == door.fan.email

"""catalog.audit_log: an event's entries behind the venue check, and every page of them."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import audit_log
from core.errors import Forbidden, NotFound
from core.models import Event, User
from tests.support.api import create_drop_setup, sign_up


async def test_pages_reach_every_entry_and_others_are_refused(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        monkeypatch: pytest.MonkeyPatch) -> None:
    setup = await create_drop_setup(client)
    for action in ("pause", "resume", "pause", "resume"):
        changed = await client.post(f"/api/drops/{setup.drop_id}/{action}",
                                    headers=setup.admin.headers)
        assert changed.status_code == 200, changed.text
    fan = await sign_up(client)
    async with sessionmaker() as session:
        admin = await session.get(User, setup.admin.id)
        someone = await session.get(User, fan.id)
        event = await session.get(Event, setup.event_id)
        assert admin is not None and someone is not None and event is not None
        newest = await audit_log.event_audit(session, admin, setup.event_id, limit=3)
        with pytest.raises(Forbidden):
            await audit_log.event_audit(session, someone, setup.event_id, limit=3)
        with pytest.raises(NotFound):
            await audit_log.event_audit(session, admin, 999_999_999, limit=3)
    assert [row.action for row in newest] == ["drop.resume", "drop.pause", "drop.resume"]

    monkeypatch.setattr(audit_log, "CSV_BATCH", 3)
    pages = [page async for page in audit_log.all_entries(sessionmaker, event)]
    ids = [row.id for page in pages for row in page]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert all(len(page) <= 3 for page in pages) and len(ids) >= 6

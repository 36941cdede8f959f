"""core.audit: an event's share of the log, found through its subjects, paged by id."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit
from tests.support.api import create_drop_setup


async def test_an_event_sees_its_own_rows_and_its_venue_rows(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    ours = await create_drop_setup(client)
    theirs = await create_drop_setup(client)
    async with sessionmaker() as session:
        audit.record(session, actor_user_id=None, action="test.event", subject_type="event",
                     subject_id=ours.event_id)
        audit.record(session, actor_user_id=None, action="test.drop", subject_type="drop",
                     subject_id=ours.drop_id)
        audit.record(session, actor_user_id=ours.admin.id, action="test.venue",
                     subject_type="venue", subject_id=ours.venue_id, details={"role": "scanner"})
        audit.record(session, actor_user_id=None, action="test.other", subject_type="drop",
                     subject_id=theirs.drop_id)
        await session.commit()
        rows = await audit.event_entries(session, event_id=ours.event_id,
                                         venue_id=ours.venue_id, limit=100)
        older = await audit.event_entries(session, event_id=ours.event_id,
                                          venue_id=ours.venue_id, limit=100,
                                          before_id=rows[1].id)
    actions = [row.action for row in rows]
    assert actions[:3] == ["test.venue", "test.drop", "test.event"]
    assert "test.other" not in actions
    assert rows[0].actor_email == ours.admin.email and rows[0].details == {"role": "scanner"}
    assert rows[1].actor_email is None
    assert [row.id for row in older] == [row.id for row in rows[2:]]

"""An event's audit log for its operators: the rows of core.audit, behind the venue check."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.authz import Actor
from catalog.events import managed_event
from core import audit
from core.audit import AuditRow
from core.models import Event

MAX_PAGE = 200
CSV_BATCH = 500


async def event_audit(session: AsyncSession, actor: Actor, event_id: int, *, limit: int,
                      before_id: int | None = None) -> list[AuditRow]:
    """A page of the event's entries, newest first (the venue's admins, platform admins)."""
    event = await managed_event(session, actor, event_id)
    return await audit.event_entries(session, event_id=event.id, venue_id=event.venue_id,
                                     limit=min(limit, MAX_PAGE), before_id=before_id)


async def all_entries(sessionmaker: async_sessionmaker[AsyncSession],
                      event: Event) -> AsyncIterator[list[AuditRow]]:
    """Every entry of an event already checked with managed_event, newest first, in pages."""
    before: int | None = None
    while True:
        async with sessionmaker() as session:
            page = await audit.event_entries(session, event_id=event.id, venue_id=event.venue_id,
                                             limit=CSV_BATCH, before_id=before)
        if page:
            yield page
        if len(page) < CSV_BATCH:
            return
        before = page[-1].id

"""Which codes open the door of an event: the phone's rotating code only, or printed too.

Printed codes (the PDF, paper, later wallet passes) never change, so a photo or a
resold copy works as well as the original, until the first scan. The rotating phone
code stops a screenshot within seconds. Each venue decides per event; see
docs/scanner.md "Printed codes". The flag lives on the event row
(`events.static_codes_allowed`, migration scanner_0002); this is its one setter.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from catalog import managed_event
from catalog.authz import Actor
from core import audit


async def set_static_codes(session: AsyncSession, actor: Actor, event_id: int, *,
                           allowed: bool) -> bool:
    """Allow or refuse printed codes for the event (its venue's admins); commits."""
    event = await managed_event(session, actor, event_id)
    if event.static_codes_allowed != allowed:
        event.static_codes_allowed = allowed
        audit.record(session, actor_user_id=actor.id, action="event.door_codes",
                     subject_type="event", subject_id=event.id,
                     details={"static_codes_allowed": allowed})
    await session.commit()
    return allowed

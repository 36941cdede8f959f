"""An event's audit log as the API sends it (`GET /api/events/{id}/audit`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.schemas.base import Id, ResponseBody


class AuditEntry(ResponseBody):
    id: Id
    at: datetime
    actor_user_id: Id | None  # None: the system (a lottery draw, a payment check)
    actor_email: str | None
    action: str  # e.g. event.publish, drop.pause, order.refund, venue.staff.invite
    subject_type: str  # event | drop | order | ticket | venue
    subject_id: str
    details: dict[str, Any]


class AuditPage(ResponseBody):
    entries: list[AuditEntry]
    # Pass as ?cursor= for the next (older) page; None on the last page.
    next_cursor: str | None
    limit: int

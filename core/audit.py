"""Writing to the audit log, inside the caller's transaction, and reading an event's share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AuditEntry, Drop, Order, Ticket, User


def record(
    session: AsyncSession,
    *,
    actor_user_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | str,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor_user_id=actor_user_id,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            details=details or {},
        )
    )


@dataclass(frozen=True)
class AuditRow:
    """One audit entry as an operator reads it: who (their email), what, when, details."""

    id: int
    at: datetime
    actor_user_id: int | None
    actor_email: str | None
    action: str
    subject_type: str
    subject_id: str
    details: dict[str, Any]


def _of_event(event_id: int, venue_id: int) -> ColumnElement[bool]:
    """Rows about the event, its drops, orders and tickets, and its venue's staff.

    Rows name their subject, not the event, so the event's share is found through
    the subjects' own event ids; the venue's rows (staff invited or removed, 2FA
    rule) belong too, since they decide who may operate the event."""
    kind, subject = AuditEntry.subject_type, AuditEntry.subject_id
    return or_(
        and_(kind == "event", subject == str(event_id)),
        and_(kind == "drop",
             subject.in_(select(cast(Drop.id, String)).where(Drop.event_id == event_id))),
        and_(kind == "order", subject.in_(select(Order.id).where(Order.event_id == event_id))),
        and_(kind == "ticket", subject.in_(select(Ticket.id).where(Ticket.event_id == event_id))),
        and_(kind == "venue", subject == str(venue_id)),
    )


async def event_entries(
    session: AsyncSession, *, event_id: int, venue_id: int, limit: int, before_id: int | None = None
) -> list[AuditRow]:
    """The event's entries, newest first; `before_id` continues after a page's last id.

    Keyset paging on the id (not an offset): a page stays right while new rows arrive."""
    query = (
        select(AuditEntry, User.email)
        .outerjoin(User, User.id == AuditEntry.actor_user_id)
        .where(_of_event(event_id, venue_id))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [
        AuditRow(id=entry.id, at=entry.created_at, actor_user_id=entry.actor_user_id,
                 actor_email=email, action=entry.action, subject_type=entry.subject_type,
                 subject_id=entry.subject_id, details=entry.details or {})
        for entry, email in (await session.execute(query)).all()
    ]

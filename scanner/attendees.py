"""An event's attendees, one row per ticket, for the door list export
(`GET /api/events/{id}/attendees.csv`): who holds it, which tier, and whether and
when it was checked in (and at which gate).

Streamed through a server-side cursor like the order export (purchase/order_export.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Event, Ticket, TicketTier, User
from scanner.models import CheckIn

BATCH = 500
HEADER = ("ticket_id", "order_id", "holder_name", "holder_email", "tier", "status",
          "checked_in_at", "gate")

AttendeeRow = Sequence[str | int | datetime | None]


async def attendee_rows(sessionmaker: async_sessionmaker[AsyncSession],
                        event: Event) -> AsyncIterator[list[AttendeeRow]]:
    """Every ticket of the event (valid, refunded or cancelled: the status says), by tier.

    The caller has checked that the reader administers the event's venue."""
    query = (select(Ticket, User.name, User.email, TicketTier.name, CheckIn.scanned_at,
                    CheckIn.gate)
             .join(User, User.id == Ticket.user_id)
             .join(TicketTier, TicketTier.id == Ticket.tier_id)
             .outerjoin(CheckIn, CheckIn.ticket_id == Ticket.id)
             .where(Ticket.event_id == event.id)
             .order_by(Ticket.tier_id, Ticket.created_at, Ticket.id)
             .execution_options(yield_per=BATCH))
    async with sessionmaker() as session:
        result = await session.stream(query)
        async for partition in result.partitions():
            yield [(ticket.id, ticket.order_id, name, email, tier, ticket.status, scanned_at, gate)
                   for ticket, name, email, tier, scanned_at, gate in partition]

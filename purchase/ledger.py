"""The ledger's capacity guard: turning a paid order into tickets without ever overselling.

`issue_tickets` and `insert_tickets` run inside the caller's transaction. They
insert one ticket row per seat, then, for every tier in the order, increment
`ticket_tiers.sold` only where the increment still fits (`sold + n <= capacity`,
backed by a CHECK constraint). If any tier is full they raise `TierFull` and the
caller rolls back: a wrong Redis value can never oversell (ARCHITECTURE.md promise 1).

`issue_tickets` gives back ORM `Ticket` objects (the lottery and test factories keep
working on them); `insert_tickets` is the paid-order path's: one INSERT of every seat,
as SQL on the transaction's psycopg connection (core.db.driver_transaction), sent with
the guard's UPDATEs without waiting. The guard itself is one function either way
(`take_capacity`): the ORM path runs it on its session's psycopg connection.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import DriverConnection, driver_of
from core.errors import Conflict
from core.models import Order, SoldOrder, Ticket


class TierFull(Conflict):
    """The tier has no room left for this order in the ledger."""

    def __init__(self, tier_id: int) -> None:
        super().__init__("sold out: no tickets left in this tier", tier_id=tier_id)
        self.tier_id = tier_id


def quantities_by_tier(items: Iterable[Mapping[str, object]]) -> dict[int, int]:
    totals: Counter[int] = Counter()
    for item in items:
        totals[int(str(item["tier_id"]))] += int(str(item["quantity"]))
    return dict(totals)


def ticket_values(order: SoldOrder) -> list[dict[str, Any]]:
    """One row per seat, tier by tier."""
    return [
        {"id": str(uuid.uuid4()), "order_id": order.id, "event_id": order.event_id,
         "tier_id": tier_id, "user_id": order.user_id, "status": "valid"}
        for tier_id, quantity in sorted(quantities_by_tier(order.items).items())
        for _ in range(quantity)
    ]


def ticket_rows(order: SoldOrder) -> list[Ticket]:
    return [Ticket(**values) for values in ticket_values(order)]


# The conditional increment: a tier's row changes only where the seats still fit.
TAKE_CAPACITY = ("UPDATE ticket_tiers SET sold = sold + %(quantity)s "
                 "WHERE id = %(tier_id)s AND sold + %(quantity)s <= capacity RETURNING id")
# Every seat of an order in one statement, whatever the count (arrays of ids and tiers).
INSERT_TICKETS = (
    "INSERT INTO tickets (id, order_id, event_id, tier_id, user_id, status) "
    "SELECT seat.id, %(order_id)s, %(event_id)s, seat.tier_id, %(user_id)s, 'valid' "
    "FROM unnest(%(ids)s::varchar[], %(tier_ids)s::bigint[]) AS seat(id, tier_id)")


async def take_capacity(conn: DriverConnection, order: SoldOrder) -> None:
    """The guard itself: count the order's seats as sold where they still fit, or raise."""
    # A fixed tier order keeps concurrent commits from deadlocking on each other's rows.
    # Every UPDATE is sent before any answer is read (one round trip in pipeline mode).
    taken = [await conn.execute(TAKE_CAPACITY, {"tier_id": tier_id, "quantity": quantity})
             for tier_id, quantity in sorted(quantities_by_tier(order.items).items())]
    for tier_id, cursor in zip(sorted(quantities_by_tier(order.items)), taken, strict=True):
        if await cursor.fetchone() is None:
            raise TierFull(tier_id)


async def issue_tickets(session: AsyncSession, order: Order) -> list[Ticket]:
    """Create `order`'s tickets and reserve their ledger capacity (no commit).

    Everything pending in the session is flushed first and the capacity UPDATE comes
    last, so a tier's row (the one row every buyer of the tier updates) stays locked
    only from that UPDATE to the caller's COMMIT, which should follow at once.
    """
    tickets = ticket_rows(order)
    session.add_all(tickets)
    await session.flush()
    await take_capacity(await driver_of(session), order)
    return tickets


async def insert_tickets(conn: DriverConnection, order: SoldOrder) -> None:
    """`issue_tickets` without objects: the seats' rows in one INSERT (however many), then
    the same guard, last, for the same reason."""
    seats = ticket_values(order)
    await conn.execute(INSERT_TICKETS, {
        "order_id": order.id, "event_id": order.event_id, "user_id": order.user_id,
        "ids": [seat["id"] for seat in seats], "tier_ids": [seat["tier_id"] for seat in seats]})
    await take_capacity(conn, order)

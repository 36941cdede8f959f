"""The ledger's capacity guard: turning a paid order into tickets without ever overselling.

`issue_tickets` and `insert_tickets` run inside the caller's transaction. They
insert one ticket row per seat, then, for every tier in the order, increment
`ticket_tiers.sold` only where the increment still fits (`sold + n <= capacity`,
backed by a CHECK constraint). If any tier is full they raise `TierFull` and the
caller rolls back: a wrong Redis value can never oversell (ARCHITECTURE.md promise 1).

`issue_tickets` gives back ORM `Ticket` objects (the lottery and test factories keep
working on them); `insert_tickets` is the paid-order path's: one multi-row INSERT,
no objects for the session to flush.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from core.models import Order, SoldOrder, Ticket, TicketTier


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


async def take_capacity(session: AsyncSession, order: SoldOrder) -> None:
    """The guard itself: count the order's seats as sold where they still fit, or raise."""
    # A fixed tier order keeps concurrent commits from deadlocking on each other's rows.
    for tier_id, quantity in sorted(quantities_by_tier(order.items).items()):
        result = await session.execute(
            update(TicketTier)
            .where(TicketTier.id == tier_id, TicketTier.sold + quantity <= TicketTier.capacity)
            .values(sold=TicketTier.sold + quantity)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
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
    await take_capacity(session, order)
    return tickets


async def insert_tickets(session: AsyncSession, order: SoldOrder) -> None:
    """`issue_tickets` without objects: the seats' rows in one INSERT (however many), then
    the same guard, last, for the same reason."""
    await session.execute(insert(Ticket), ticket_values(order))
    await take_capacity(session, order)

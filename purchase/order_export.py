"""An event's orders as rows for the venue's export (`GET /api/events/{id}/orders.csv`).

The read streams through a server-side cursor (`session.stream` with `yield_per`), so a
sold-out stadium's orders never sit in memory at once. Rows are plain values: the
gateway writes the CSV (gateway/csv_export.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import event_tiers
from core.models import Event, Order, Payment, User

BATCH = 500
HEADER = ("order_id", "fan_email", "fan_name", "status", "items", "tickets", "amount_minor",
          "currency", "created_at", "paid_at", "refunded_at")

OrderRow = Sequence[str | int | datetime | None]


def _items(items: list[dict[str, object]], tier_names: dict[int, str]) -> tuple[str, int]:
    """'GA x2; VIP x1' and the ticket count, from the order's item list."""
    parts, count = [], 0
    for item in items:
        tier_id, quantity = int(str(item["tier_id"])), int(str(item["quantity"]))
        parts.append(f"{tier_names.get(tier_id, f'tier {tier_id}')} x{quantity}")
        count += quantity
    return "; ".join(parts), count


async def order_rows(sessionmaker: async_sessionmaker[AsyncSession],
                     event: Event) -> AsyncIterator[list[OrderRow]]:
    """Every order of the event, oldest first, in batches of `BATCH` rows.

    The caller has checked that the reader administers the event's venue
    (catalog.managed_event); this only reads."""
    # When the refund was sent to Stripe: the order row keeps only its state.
    refunded = (select(Payment.order_id, func.max(Payment.refund_requested_at).label("at"))
                .where(Payment.refund_requested_at.is_not(None))
                .group_by(Payment.order_id).subquery())
    query = (select(Order, User.email, User.name, refunded.c.at)
             .join(User, User.id == Order.user_id)
             .outerjoin(refunded, refunded.c.order_id == Order.id)
             .where(Order.event_id == event.id)
             .order_by(Order.created_at, Order.id)
             .execution_options(yield_per=BATCH))
    async with sessionmaker() as session:
        tier_names = {tier.id: tier.name for tier in await event_tiers(session, event.id)}
        result = await session.stream(query)
        async for partition in result.partitions():
            batch: list[OrderRow] = []
            for order, email, name, refunded_at in partition:
                items, count = _items(order.items, tier_names)
                batch.append((order.id, email, name, order.state, items, count,
                              order.total_cents, order.currency, order.created_at,
                              order.paid_at, refunded_at))
            yield batch

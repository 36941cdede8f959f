"""Background jobs of the purchase part (listed in ticketq.worker.JOBS).

- hold_sweeper: reconciles inventory once at start, then returns expired holds'
  seats every second (holds are also reclaimed lazily, so a dead sweeper strands nothing).
- payment_reconciler: settles orders whose intents were left non-final (lost webhook,
  crashed request), cancels intents whose hold expired unpaid, and finishes due refunds.
- cancellation_refunder: refunds cancelled events' paid orders in batches until done.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from core.models import Hold, Order, Payment
from purchase import cancellation, refunds, settlement
from purchase.context import PurchaseContext
from purchase.holds import sweep_drop
from purchase.reconcile import drops_to_reconcile, reconcile_all

log = logging.getLogger("ticketq.purchase.jobs")

SWEEP_EVERY_S = 1.0
RECONCILE_EVERY_S = 5.0
REFUND_EVERY_S = 2.0
# Leave fresh checkouts to the request that is running them.
SETTLE_AFTER = timedelta(seconds=30)


async def hold_sweeper(context: PurchaseContext) -> None:
    """Rebuild stock from the ledger at start, then return expired holds every second."""
    reports = await reconcile_all(context, now=context.clock())
    for drop_id, report in reports.items():
        if report.differences:
            log.warning("drop %s stock corrected at start: %s", drop_id, report.differences)
    while True:
        now = context.clock()
        async with context.sessionmaker() as session:
            drop_ids = await drops_to_reconcile(session, now=now - timedelta(hours=1))
        for drop_id in drop_ids:
            swept = await sweep_drop(context, drop_id, now=now)
            if swept:
                log.info("drop %s: %d expired holds returned to stock", drop_id, len(swept))
        await asyncio.sleep(SWEEP_EVERY_S)


async def reconcile_payments(context: PurchaseContext, *, now: datetime, limit: int = 100) -> int:
    """One pass over unsettled orders; returns how many changed state."""
    async with context.sessionmaker() as session:
        rows = (await session.execute(
            select(Order.id, Order.checkout_started_at, Payment.stripe_payment_intent_id,
                   Hold.expires_at)
            .outerjoin(Payment, Payment.order_id == Order.id)
            .outerjoin(Hold, Hold.id == Order.hold_id)
            .where(Order.state == "pending", Order.created_at < now - SETTLE_AFTER)
            .order_by(Order.created_at).limit(limit))).all()
    changed = 0
    for order_id, started_at, intent_id, hold_expires_at in rows:
        hold_over = hold_expires_at is None or hold_expires_at <= now
        if intent_id is None:
            stale_claim = started_at is None or started_at < now - SETTLE_AFTER
            if hold_over and stale_claim:
                # Nothing was ever confirmed for it: the order simply lapsed.
                await settlement_expire(context, order_id)
                changed += 1
            continue
        intent = await context.payments.retrieve_intent(intent_id)
        if hold_over and intent.status in {"requires_confirmation", "requires_action",
                                           "requires_payment_method"}:
            intent = await context.payments.cancel_intent(intent_id)  # frees any authorisation
        settled = await settlement.settle(context, intent, now=now, order_id=order_id)
        changed += settled.state != "pending"
    await refunds.execute_open_refunds(context, now=now)
    return changed


async def settlement_expire(context: PurchaseContext, order_id: str) -> None:
    async with context.sessionmaker() as session, session.begin():
        order = await session.get(Order, order_id, with_for_update=True)
        if order is not None and order.state == "pending":
            order.state, order.reason = "expired", "the hold expired before payment"


async def payment_reconciler(context: PurchaseContext) -> None:
    """Settle or expire orders whose fan never came back from paying."""
    while True:
        if context.stripe is not None:
            await reconcile_payments(context, now=context.clock())
        await asyncio.sleep(RECONCILE_EVERY_S)


async def cancellation_refunder(context: PurchaseContext) -> None:
    """Carry on refunding cancelled events' orders until every one is done."""
    while True:
        if context.stripe is not None:
            for event_id in await cancellation.unfinished_cancellations(context):
                await cancellation.refund_batch(context, event_id=event_id, now=context.clock())
        await asyncio.sleep(REFUND_EVERY_S)

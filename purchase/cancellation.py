"""Event cancellation: stop selling, then refund every paid order in resumable batches.

`cancel_event` commits the decision (event and drops cancelled, a cancellation row,
an audit entry) and zeroes stock. `refund_batch` then marks up to `batch` paid
orders refunded with their refunds due, commits, and carries the refunds out; it is
what the `cancellation_refunder` job runs until nothing is left. All progress lives
in the ledger (orders paid -> refunded, payments' refund ids), so a crash anywhere
resumes where it stopped and each refund still happens exactly once (see refunds.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from catalog import managed_event
from catalog.authz import Actor
from core import audit
from core.errors import NotFound
from core.models import Drop, Hold, Order, Payment
from purchase import holds as hold_service
from purchase import refunds
from purchase.context import PurchaseContext
from purchase.models import EventCancellation
from purchase.reconcile import reconcile_drop
from purchase.settlement import CANCELLED_REASON


@dataclass(frozen=True)
class CancellationProgress:
    event_id: int
    requested_at: datetime
    finished_at: datetime | None
    paid_orders_left: int
    refunded_orders: int
    refunds_pending: int

    @property
    def done(self) -> bool:
        return self.finished_at is not None


async def cancel_event(ctx: PurchaseContext, actor: Actor, *, event_id: int, reason: str,
                       now: datetime) -> CancellationProgress:
    async with ctx.sessionmaker() as session, session.begin():
        event = await managed_event(session, actor, event_id)
        if await session.get(EventCancellation, event.id) is None:
            event.status = "cancelled"
            await session.execute(update(Drop).where(Drop.event_id == event.id)
                                  .values(state="cancelled"))
            session.add(EventCancellation(event_id=event.id, requested_by=actor.id, reason=reason,
                                          requested_at=now))
            audit.record(session, actor_user_id=actor.id, action="event.cancel",
                         subject_type="event", subject_id=event.id, details={"reason": reason})
        drop_ids = list(await session.scalars(select(Drop.id).where(Drop.event_id == event.id)))
        live = list(await session.scalars(select(Hold).where(
            Hold.event_id == event.id, Hold.state == "active")))
    for hold in live:
        await hold_service.release(ctx, hold.drop_id, hold.id, now=now)
    for drop_id in drop_ids:
        ctx.offers.forget(drop_id)
        await reconcile_drop(ctx, drop_id, now=now)  # a cancelled event has no stock
    return await progress(ctx, event_id)


async def refund_batch(ctx: PurchaseContext, *, event_id: int, now: datetime,
                       batch: int = 50) -> int:
    """Refund up to `batch` more paid orders of a cancelled event; returns refunds recorded."""
    async with ctx.sessionmaker() as session, session.begin():
        orders = list(await session.scalars(
            select(Order).where(Order.event_id == event_id, Order.state == "paid")
            .order_by(Order.created_at).limit(batch).with_for_update(skip_locked=True)))
        for order in orders:
            await refunds.refund_order(session, order, CANCELLED_REASON, now)
    done = await refunds.execute_open_refunds(ctx, now=now, limit=max(batch, 1),
                                              event_id=event_id)
    state = await progress(ctx, event_id)
    if state.paid_orders_left == 0 and state.refunds_pending == 0 and not state.done:
        async with ctx.sessionmaker() as session, session.begin():
            cancellation = await session.get(EventCancellation, event_id, with_for_update=True)
            if cancellation is not None and cancellation.finished_at is None:
                cancellation.finished_at = now
    return done


async def progress(ctx: PurchaseContext, event_id: int) -> CancellationProgress:
    async with ctx.sessionmaker() as session:
        cancellation = await session.get(EventCancellation, event_id)
        counts = dict((await session.execute(
            select(Order.state, func.count()).where(Order.event_id == event_id)
            .group_by(Order.state))).all())
        pending = await session.scalar(
            select(func.count()).select_from(Payment).join(Order, Order.id == Payment.order_id)
            .where(Order.event_id == event_id, Payment.refund_due_at.is_not(None),
                   Payment.stripe_refund_id.is_(None)))
    if cancellation is None:
        raise NotFound("this event has not been cancelled")
    return CancellationProgress(event_id, cancellation.requested_at, cancellation.finished_at,
                                int(counts.get("paid", 0)), int(counts.get("refunded", 0)),
                                int(pending or 0))


async def unfinished_cancellations(ctx: PurchaseContext) -> list[int]:
    async with ctx.sessionmaker() as session:
        return list(await session.scalars(select(EventCancellation.event_id)
                                          .where(EventCancellation.finished_at.is_(None))))

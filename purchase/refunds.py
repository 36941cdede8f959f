"""Refunds, each exactly once, even where Stripe ignores Idempotency-Key.

A refund is first *due* (decided inside the ledger transaction that knows why),
then *claimed* (refund_requested_at set, committed) before Stripe is called, then
*recorded* (stripe_refund_id). A claim older than CLAIM_TTL without a record means
the refunder died mid-call: before calling Stripe again we list the intent's
refunds there and record the one that already landed, if any.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Order, Payment, Ticket
from mail import causes as mail_causes
from purchase.context import PurchaseContext

CLAIM_TTL = timedelta(seconds=60)


def make_refund_due(payment: Payment, reason: str, now: datetime) -> None:
    """Decide a refund (inside the caller's transaction); `execute_refund` carries it out."""
    if payment.refund_due_at is None:
        payment.refund_due_at = now
        payment.refund_reason = reason


async def refund_order(session: AsyncSession, order: Order, reason: str, now: datetime) -> None:
    """Mark an order refunded with its reason, its tickets refunded, its payments refund-due.

    The lottery entry a drawn order came from follows by itself: a trigger on `orders`,
    owned by the lottery's migration lottery_0003, because purchase may not import it."""
    order.state = "refunded"
    order.reason = reason
    await session.execute(update(Ticket).values(status="refunded").where(
        Ticket.order_id == order.id, Ticket.status == "valid"))
    payments = await session.scalars(select(Payment).where(
        Payment.order_id == order.id, Payment.status == "succeeded").with_for_update())
    for payment in payments:
        make_refund_due(payment, reason, now)
    await mail_causes.order_refunded(session, order, reason)


async def _claim(
    ctx: PurchaseContext, payment_id: int, now: datetime
) -> tuple[Payment, bool] | None:
    async with ctx.sessionmaker() as session, session.begin():
        payment = await session.get(Payment, payment_id, with_for_update=True)
        if payment is None or payment.refund_due_at is None or payment.stripe_refund_id:
            return None
        claimed_before = payment.refund_requested_at is not None
        if claimed_before and payment.refund_requested_at > now - CLAIM_TTL:  # type: ignore[operator]
            return None  # another process is refunding it right now
        payment.refund_requested_at = now
        return payment, claimed_before


async def _record(ctx: PurchaseContext, payment_id: int, refund_id: str, amount: int) -> None:
    async with ctx.sessionmaker() as session, session.begin():
        payment = await session.get(Payment, payment_id, with_for_update=True)
        if payment is None or payment.stripe_refund_id:
            return
        payment.stripe_refund_id = refund_id
        payment.refunded_cents = amount
        payment.status = "refunded"


async def execute_refund(ctx: PurchaseContext, payment_id: int, *, now: datetime) -> bool:
    """Carry out a due refund; True if this call recorded it."""
    claimed = await _claim(ctx, payment_id, now)
    if claimed is None:
        return False
    payment, claimed_before = claimed
    intent_id = payment.stripe_payment_intent_id
    if claimed_before:
        landed = await ctx.payments.refunds_of(intent_id)
        if landed:
            await _record(ctx, payment_id, *landed[0])
            return True
    refund_id, amount = await ctx.payments.refund(
        intent_id, idempotency_key=f"ticketq-refund-{payment.id}-{intent_id}",
        metadata={"order_id": payment.order_id or "",
                  "reason": (payment.refund_reason or "")[:400]})
    await _record(ctx, payment_id, refund_id, amount)
    return True


async def open_refunds(ctx: PurchaseContext, *, now: datetime, limit: int = 100,
                       event_id: int | None = None) -> list[int]:
    """Payments whose refund is due and not recorded, and not claimed by a live refunder."""
    query = (select(Payment.id).where(
        Payment.refund_due_at.is_not(None), Payment.stripe_refund_id.is_(None),
        (Payment.refund_requested_at.is_(None)) | (Payment.refund_requested_at < now - CLAIM_TTL))
        .order_by(Payment.refund_due_at).limit(limit))
    if event_id is not None:
        query = query.join(Order, Order.id == Payment.order_id).where(Order.event_id == event_id)
    async with ctx.sessionmaker() as session:
        return list(await session.scalars(query))


async def execute_open_refunds(ctx: PurchaseContext, *, now: datetime, limit: int = 100,
                               event_id: int | None = None) -> int:
    done = 0
    for payment_id in await open_refunds(ctx, now=now, limit=limit, event_id=event_id):
        done += await execute_refund(ctx, payment_id, now=now)
    return done

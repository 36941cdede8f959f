"""Settlement: what a PaymentIntent's state means for its order. One function for every path.

The checkout response, the webhook, the fan's poll and the reconciler job all call
`settle`, which is idempotent: it locks the order row, and only a pending order
moves. Money that arrives for an order that cannot be ticketed (hold expired, tier
full at commit, event cancelled, a second intent for a paid order) is refunded, and
the order says why (ARCHITECTURE.md promise 2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import to_ms
from core.models import Event, Hold, Order, Payment
from core.redis_keys import DropKeys
from mail import causes as mail_causes
from payments.stripe_client import Intent
from purchase import holds as hold_service
from purchase import inventory, refunds
from purchase.context import PurchaseContext
from purchase.inventory import HoldExpired, HoldGone
from purchase.ledger import TierFull, issue_tickets
from purchase.queue_link import free_active_slot

EXPIRED_REASON = "the hold expired before the payment completed; refunded automatically"
FULL_REASON = "sold out when the order was committed; refunded automatically"
CANCELLED_REASON = "the event was cancelled; refunded automatically"
DUPLICATE_REASON = "a second payment for an order already paid; refunded automatically"


@dataclass(frozen=True)
class Settled:
    order_id: str
    state: str
    refund_payment_id: int | None = None
    ticketed: bool = False
    release_hold: bool = False
    # What the side effects after commit need, so they read nothing again.
    drop_id: int = 0
    fan_id: int = 0
    hold_id: str | None = None
    reason: str | None = None


async def _payment_row(session: AsyncSession, order: Order, intent: Intent) -> Payment:
    payment = await session.scalar(select(Payment).where(
        Payment.stripe_payment_intent_id == intent.id).with_for_update())
    if payment is None:
        payment = Payment(order_id=order.id, stripe_payment_intent_id=intent.id,
                          amount_cents=intent.amount, currency=intent.currency,
                          status=intent.status, client_secret=intent.client_secret)
        session.add(payment)
        await session.flush()
    elif payment.status not in {"refunded"}:
        payment.status = intent.status
    return payment


async def _decide(ctx: PurchaseContext, order_id: str, intent: Intent, now: datetime) -> Settled:
    try:
        async with ctx.sessionmaker() as session, session.begin():
            order = await session.get(Order, order_id, with_for_update=True)
            if order is None:
                return Settled(order_id, "unknown")
            payment = await _payment_row(session, order, intent)
            decided = await _decide_order(ctx, session, order, payment, intent, now)
            return replace(decided, drop_id=order.drop_id, fan_id=order.user_id,
                           hold_id=order.hold_id, reason=order.reason)
    except TierFull:
        # The whole paid attempt rolled back; record the refund in a transaction of its own.
        async with ctx.sessionmaker() as session, session.begin():
            order = await session.get(Order, order_id, with_for_update=True)
            assert order is not None
            payment = await _payment_row(session, order, intent)
            if order.state == "pending":
                await refunds.refund_order(session, order, FULL_REASON, now)
            return Settled(order.id, order.state, refund_payment_id=payment.id,
                           drop_id=order.drop_id, fan_id=order.user_id, hold_id=order.hold_id,
                           reason=order.reason)


async def _decide_order(ctx: PurchaseContext, session: AsyncSession, order: Order,
                        payment: Payment, intent: Intent, now: datetime) -> Settled:
    if intent.succeeded:
        if order.state != "pending":
            # Paid already (by this intent: nothing to do) or not payable any more.
            other_paid = await session.scalar(select(Payment.id).where(
                Payment.order_id == order.id, Payment.status == "succeeded",
                Payment.id != payment.id, Payment.refund_due_at.is_(None)))
            already_ours = order.state == "paid" and other_paid is None
            if already_ours:
                return Settled(order.id, order.state)
            refunds.make_refund_due(payment, DUPLICATE_REASON if order.state == "paid"
                                    else order.reason or EXPIRED_REASON, now)
            return Settled(order.id, order.state, refund_payment_id=payment.id)
        event = await session.get(Event, order.event_id)
        if event is not None and event.status == "cancelled":
            await refunds.refund_order(session, order, CANCELLED_REASON, now)
            return Settled(order.id, order.state, refund_payment_id=payment.id,
                           release_hold=True)
        keys = DropKeys(order.drop_id)
        try:
            await inventory.convert_hold(ctx.scripts, keys, hold_id=order.hold_id or "",
                                         order_id=order.id, now_ms=to_ms(now))
        except (HoldExpired, HoldGone):
            await refunds.refund_order(session, order, EXPIRED_REASON, now)
            return Settled(order.id, order.state, refund_payment_id=payment.id,
                           release_hold=True)
        # Everything else first: issue_tickets ends with the hot tier-row UPDATE, and the
        # commit follows at once (TierFull rolls all of it back; see _decide).
        await session.execute(update(Hold).where(Hold.id == order.hold_id)
                              .values(state="converted"))
        order.state, order.paid_at, order.reason = "paid", now, None
        await mail_causes.order_paid(session, order)
        await issue_tickets(session, order)
        return Settled(order.id, "paid", ticketed=True)
    if intent.failed and order.state == "pending":
        order.state = "failed"
        order.reason = intent.last_error or f"payment {intent.status.replace('_', ' ')}"
        return Settled(order.id, "failed", release_hold=True)
    return Settled(order.id, order.state)


async def record_intent(ctx: PurchaseContext, order_id: str, intent: Intent) -> None:
    """Write down a fresh intent before it is confirmed (no decision yet)."""
    async with ctx.sessionmaker() as session, session.begin():
        session.add(Payment(order_id=order_id, stripe_payment_intent_id=intent.id,
                            amount_cents=intent.amount, currency=intent.currency,
                            status=intent.status, client_secret=intent.client_secret))


async def settle(ctx: PurchaseContext, intent: Intent, *, now: datetime,
                 order_id: str | None = None) -> Settled:
    """Bring the order of `intent` up to date with it; safe to call any number of times."""
    order_id = order_id or intent.metadata.get("order_id")
    if not order_id:
        async with ctx.sessionmaker() as session:
            order_id = await session.scalar(select(Payment.order_id).where(
                Payment.stripe_payment_intent_id == intent.id))
    if not order_id:
        return Settled("", "unknown")
    settled = await _decide(ctx, order_id, intent, now)
    await after_commit(ctx, settled, now=now)
    return settled


async def after_commit(ctx: PurchaseContext, settled: Settled, *, now: datetime) -> None:
    """Redis and Stripe side effects, once the ledger has committed the decision."""
    if settled.state == "unknown":
        return
    keys = DropKeys(settled.drop_id)
    if settled.hold_id is not None and settled.release_hold:
        await hold_service.release(ctx, settled.drop_id, settled.hold_id, now=now)
    if settled.hold_id is not None and settled.state in {"paid", "refunded"}:
        await inventory.finish_hold(ctx.scripts, keys, hold_id=settled.hold_id,
                                    ticketed=settled.ticketed)
    if settled.ticketed:
        await free_active_slot(ctx.scripts, settled.drop_id, settled.fan_id, now_ms=to_ms(now))
    if settled.refund_payment_id is not None:
        await refunds.execute_refund(ctx, settled.refund_payment_id, now=now)

"""Settlement: what a PaymentIntent's state means for its order. One function for every path.

The checkout response, the webhook, the fan's poll and the reconciler job all call
`settle`, which is idempotent: it locks the order row, and only a pending order
moves. Money that arrives for an order that cannot be ticketed (hold expired, tier
full at commit, event cancelled, a second intent for a paid order) is refunded, and
the order says why (ARCHITECTURE.md promise 2).

Nothing is believed about an intent that the ledger did not write down itself:
the intent must be one checkout recorded for *this* order (a payments row with
its id and the order's id), for the order's exact amount and currency. The
metadata's order_id is only a hint where to look. Any other intent (made at
Stripe by someone else, 1 cent, another currency, another order's) leaves the
order where it is; if it took money, that money is refunded and the attempt is
audited (`payment.rejected`) and logged. Recorded but unsettled intents are never
failed or paid by a stranger's intent either.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
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
REJECTED_REASON = "the payment did not match its order ({}); refunded automatically"

log = logging.getLogger("ticketq.purchase.settlement")


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


def mismatch(order: Order, payment: Payment | None, intent: Intent) -> str | None:
    """Why `intent` cannot pay `order`, or None when it is the order's own and exact."""
    if payment is None or payment.order_id != order.id:
        return "not an intent recorded for this order"
    if intent.currency.upper() != order.currency.upper():
        return f"currency {intent.currency.upper()} instead of {order.currency.upper()}"
    if intent.amount != order.total_cents:
        return f"amount {intent.amount} instead of {order.total_cents}"
    return None


async def _payment_for(session: AsyncSession, intent: Intent) -> Payment | None:
    found: Payment | None = await session.scalar(select(Payment).where(
        Payment.stripe_payment_intent_id == intent.id).with_for_update())
    return found


async def _reject(session: AsyncSession, order: Order, payment: Payment | None, intent: Intent,
                  problem: str, now: datetime) -> Settled:
    """The order does not move; money the intent took goes back, once, and is audited."""
    if payment is not None and payment.order_id not in {None, order.id}:
        # Another order's own intent (its metadata points here): that order settles it.
        log.warning("intent %s names order %s but belongs to order %s; ignored",
                    intent.id, order.id, payment.order_id)
        return Settled(order.id, order.state)
    if not intent.succeeded:
        return Settled(order.id, order.state)  # no money moved: nothing to give back
    if payment is None:
        # Kept apart from the order (order_id NULL): the ledger records the refund only.
        payment = Payment(order_id=None, stripe_payment_intent_id=intent.id,
                          amount_cents=intent.amount, currency=intent.currency,
                          status=intent.status)
        session.add(payment)
        await session.flush()
    if payment.refund_due_at is None:
        refunds.make_refund_due(payment, REJECTED_REASON.format(problem), now)
        audit.record(session, actor_user_id=None, action="payment.rejected",
                     subject_type="order", subject_id=order.id,
                     details={"intent_id": intent.id, "problem": problem,
                              "intent_amount": intent.amount,
                              "intent_currency": intent.currency.upper(),
                              "order_total_cents": order.total_cents,
                              "order_currency": order.currency, "payment_id": payment.id})
        log.warning("payment rejected for order %s: intent %s, %s; refunding",
                    order.id, intent.id, problem)
    return Settled(order.id, order.state, refund_payment_id=payment.id)


async def _decide(ctx: PurchaseContext, order_id: str, intent: Intent, now: datetime) -> Settled:
    try:
        async with ctx.sessionmaker() as session, session.begin():
            order = await session.get(Order, order_id, with_for_update=True)
            if order is None:
                return Settled(order_id, "unknown")
            payment = await _payment_for(session, intent)
            problem = mismatch(order, payment, intent)
            if problem is not None or payment is None:
                decided = await _reject(session, order, payment, intent,
                                        problem or "unrecorded", now)
            else:
                if payment.status != "refunded":
                    payment.status = intent.status
                decided = await _decide_order(ctx, session, order, payment, intent, now)
            return replace(decided, drop_id=order.drop_id, fan_id=order.user_id,
                           hold_id=order.hold_id, reason=order.reason)
    except TierFull:
        # The whole paid attempt rolled back; record the refund in a transaction of its own.
        async with ctx.sessionmaker() as session, session.begin():
            order = await session.get(Order, order_id, with_for_update=True)
            payment = await _payment_for(session, intent)
            assert order is not None and payment is not None  # both checked above
            payment.status = intent.status
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
        # Only the status: a Core read, no Event object for the identity map to track.
        event_status = await session.scalar(select(Event.status).where(
            Event.id == order.event_id))
        if event_status == "cancelled":
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
        newest = await session.scalar(select(func.max(Payment.id)).where(
            Payment.order_id == order.id))
        if newest != payment.id:
            return Settled(order.id, order.state)  # a replaced attempt: the newest one decides
        hold = await session.get(Hold, order.hold_id) if order.hold_id else None
        if (intent.status == "requires_payment_method" and hold is not None
                and hold.state == "active" and hold.expires_at > now):
            # Declined (or no card yet): the seats stay the fan's until the hold expires,
            # and they may try another card; the reconciler ends it once the hold lapses.
            order.reason = intent.last_error
            return Settled(order.id, order.state)
        order.state = "failed"
        order.reason = intent.last_error or f"payment {intent.status.replace('_', ' ')}"
        return Settled(order.id, "failed", release_hold=True)
    return Settled(order.id, order.state)


async def record_intent(ctx: PurchaseContext, order_id: str, intent: Intent) -> None:
    """Write down a fresh intent before it is confirmed (no decision yet)."""
    async with ctx.sessionmaker() as session, session.begin():
        # A Core INSERT: no object, no RETURNING of the id nothing here reads.
        await session.execute(insert(Payment).values(
            order_id=order_id, stripe_payment_intent_id=intent.id, amount_cents=intent.amount,
            currency=intent.currency, status=intent.status, client_secret=intent.client_secret))


async def settle(ctx: PurchaseContext, intent: Intent, *, now: datetime,
                 order_id: str | None = None) -> Settled:
    """Bring the order of `intent` up to date with it; safe to call any number of times.

    The order is the one the ledger recorded the intent for; the metadata only names
    a candidate for intents the ledger does not know (which `_decide` then rejects).
    """
    if not order_id:
        async with ctx.sessionmaker() as session:
            order_id = await session.scalar(select(Payment.order_id).where(
                Payment.stripe_payment_intent_id == intent.id))
    order_id = order_id or _order_id_hint(intent)
    if not order_id:
        return Settled("", "unknown")
    settled = await _decide(ctx, order_id, intent, now)
    await after_commit(ctx, settled, now=now)
    return settled


def _order_id_hint(intent: Intent) -> str | None:
    """The metadata's order id, if it is one at all (anyone can write metadata)."""
    hint = intent.metadata.get("order_id", "")
    try:
        return str(uuid.UUID(hint))
    except ValueError:
        return None


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
        # Named in full: a webhook's request knew none of these ids until now.
        log.info("order paid and ticketed", extra={
            "order_id": settled.order_id, "hold_id": settled.hold_id, "fan_id": settled.fan_id,
            "drop_id": settled.drop_id})
        await free_active_slot(ctx.scripts, settled.drop_id, settled.fan_id, now_ms=to_ms(now))
    if settled.refund_payment_id is not None:
        await refunds.execute_refund(ctx, settled.refund_payment_id, now=now)

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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Update, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.clock import to_ms
from core.db import DriverConnection, driver_of, driver_statement, driver_transaction, engine_of
from core.models import Event, Hold, Order, Payment
from core.redis_keys import DropKeys
from mail import causes as mail_causes
from payments.stripe_client import Intent
from purchase import holds as hold_service
from purchase import inventory, refunds
from purchase.context import PurchaseContext
from purchase.inventory import HoldExpired, HoldGone
from purchase.ledger import TierFull, insert_tickets
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


# Settlement reads rows, not ORM objects: on the paid path (every order) nothing is left
# for a flush to work out, and every write is one statement. The rarer outcomes that
# share their code with other parts (refunds.refund_order, refunds.make_refund_due) load
# the object they need from the row this transaction has already locked.

@dataclass(frozen=True)
class LockedOrder:
    """The order's row, locked FOR UPDATE, and its event's status (cancelled or not)."""

    id: str
    user_id: int
    event_id: int
    drop_id: int
    hold_id: str | None
    items: list[dict[str, Any]]
    total_cents: int
    currency: str
    state: str
    reason: str | None
    event_status: str

    def as_is(self, **outcome: Any) -> Settled:
        """The order stays where it is."""
        return Settled(self.id, self.state, reason=self.reason, **outcome)


@dataclass(frozen=True)
class RecordedPayment:
    """The payments row of the intent, locked FOR UPDATE."""

    id: int
    order_id: str | None
    status: str
    refund_due_at: datetime | None


_ORDER_COLUMNS = (Order.id, Order.user_id, Order.event_id, Order.drop_id, Order.hold_id,
                  Order.items, Order.total_cents, Order.currency, Order.state, Order.reason,
                  Event.status)
_PAYMENT_COLUMNS = (Payment.id, Payment.order_id, Payment.status, Payment.refund_due_at)


async def _lock(session: AsyncSession, order_id: str, intent: Intent
                ) -> tuple[LockedOrder | None, RecordedPayment | None]:
    """Lock the order row and the intent's payments row: one statement when the ledger
    recorded the intent (always, on the checkout path), the order alone when it did not.
    The order row is locked first either way, as every path into settlement does."""
    row = (await session.execute(
        select(*_ORDER_COLUMNS, *_PAYMENT_COLUMNS)
        .join(Event, Event.id == Order.event_id)
        .join(Payment, Payment.stripe_payment_intent_id == intent.id)
        .where(Order.id == order_id).with_for_update(of=[Order, Payment]))).one_or_none()
    if row is not None:
        cut = len(_ORDER_COLUMNS)
        return LockedOrder(*row[:cut]), RecordedPayment(*row[cut:])
    alone = (await session.execute(
        select(*_ORDER_COLUMNS).join(Event, Event.id == Order.event_id)
        .where(Order.id == order_id).with_for_update(of=Order))).one_or_none()
    return (None if alone is None else LockedOrder(*alone)), None


def mismatch(order: LockedOrder, payment: RecordedPayment | None, intent: Intent) -> str | None:
    """Why `intent` cannot pay `order`, or None when it is the order's own and exact."""
    if payment is None or payment.order_id != order.id:
        return "not an intent recorded for this order"
    if intent.currency.upper() != order.currency.upper():
        return f"currency {intent.currency.upper()} instead of {order.currency.upper()}"
    if intent.amount != order.total_cents:
        return f"amount {intent.amount} instead of {order.total_cents}"
    return None


def _follow_intent(payment: RecordedPayment, intent: Intent) -> Update:
    """The payments row takes the intent's status from Stripe, unless we refunded it."""
    return (update(Payment).where(Payment.id == payment.id, Payment.status != "refunded")
            .values(status=intent.status))


async def _payment_object(session: AsyncSession, payment_id: int) -> Payment:
    found = await session.get(Payment, payment_id)  # locked by _lock already
    assert found is not None
    return found


async def _reject(session: AsyncSession, order: LockedOrder, payment: RecordedPayment | None,
                  intent: Intent, problem: str, now: datetime) -> Settled:
    """The order does not move; money the intent took goes back, once, and is audited."""
    if payment is not None and payment.order_id not in {None, order.id}:
        # Another order's own intent (its metadata points here): that order settles it.
        log.warning("intent %s names order %s but belongs to order %s; ignored",
                    intent.id, order.id, payment.order_id)
        return order.as_is()
    if not intent.succeeded:
        return order.as_is()  # no money moved: nothing to give back
    if payment is None:
        # Kept apart from the order (order_id NULL): the ledger records the refund only.
        record = Payment(order_id=None, stripe_payment_intent_id=intent.id,
                         amount_cents=intent.amount, currency=intent.currency,
                         status=intent.status)
        session.add(record)
        await session.flush()
    else:
        record = await _payment_object(session, payment.id)
    if record.refund_due_at is None:
        refunds.make_refund_due(record, REJECTED_REASON.format(problem), now)
        audit.record(session, actor_user_id=None, action="payment.rejected",
                     subject_type="order", subject_id=order.id,
                     details={"intent_id": intent.id, "problem": problem,
                              "intent_amount": intent.amount,
                              "intent_currency": intent.currency.upper(),
                              "order_total_cents": order.total_cents,
                              "order_currency": order.currency, "payment_id": record.id})
        log.warning("payment rejected for order %s: intent %s, %s; refunding",
                    order.id, intent.id, problem)
    return order.as_is(refund_payment_id=record.id)


async def _decide(ctx: PurchaseContext, order_id: str, intent: Intent, now: datetime) -> Settled:
    paid = await _pay(ctx, order_id, intent, now)
    if paid is not None:
        return paid
    try:
        async with ctx.sessionmaker() as session, session.begin():
            order, payment = await _lock(session, order_id, intent)
            if order is None:
                return Settled(order_id, "unknown")
            problem = mismatch(order, payment, intent)
            if problem is not None or payment is None:
                decided = await _reject(session, order, payment, intent,
                                        problem or "unrecorded", now)
            else:
                decided = await _decide_order(ctx, session, order, payment, intent, now)
            return replace(decided, drop_id=order.drop_id, fan_id=order.user_id,
                           hold_id=order.hold_id)
    except TierFull:
        return await _refund_sold_out(ctx, order_id, intent, now)


async def _refund_sold_out(ctx: PurchaseContext, order_id: str, intent: Intent,
                           now: datetime) -> Settled:
    """The whole paid attempt rolled back (TierFull); the refund in a transaction of its own."""
    async with ctx.sessionmaker() as session, session.begin():
        order, payment = await _lock(session, order_id, intent)
        assert order is not None and payment is not None  # both checked before TierFull
        await session.execute(_follow_intent(payment, intent))
        decided = order.as_is(refund_payment_id=payment.id)
        if order.state == "pending":
            decided = await _refund(session, order, FULL_REASON, now,
                                    refund_payment_id=payment.id)
        return replace(decided, drop_id=order.drop_id, fan_id=order.user_id,
                       hold_id=order.hold_id)


# The paid order's path (every order that sells): `_lock`, `mismatch` and `_ticket` on
# the psycopg connection in one pipelined transaction, the confirmation email's facts
# read with the lock. Any other case (not the order's own exact intent, not pending, a
# cancelled event, a hold Redis no longer has) is left to the general path above,
# which locks the order again and decides.
LOCK_ORDER_AND_PAYMENT = (
    "SELECT o.id, o.user_id, o.event_id, o.drop_id, o.hold_id, o.items, o.total_cents, "
    "o.currency, o.state, o.reason, e.status, p.id, p.order_id, p.status, p.refund_due_at "
    "FROM orders o JOIN events e ON e.id = o.event_id "
    "JOIN payments p ON p.stripe_payment_intent_id = %(intent_id)s "
    "WHERE o.id = %(order_id)s FOR UPDATE OF o, p")


async def _pay(ctx: PurchaseContext, order_id: str, intent: Intent,
               now: datetime) -> Settled | None:
    """The order paid and ticketed, or None where the general path has to decide."""
    if not intent.succeeded:
        return None
    try:
        async with driver_transaction(engine_of(ctx.sessionmaker)) as conn:
            locking = await conn.execute(LOCK_ORDER_AND_PAYMENT,
                                         {"intent_id": intent.id, "order_id": order_id})
            facts = await conn.execute(mail_causes.ORDER_FACTS, {"order_id": order_id})
            row = await locking.fetchone()  # one round trip: BEGIN, the lock, the facts
            if row is None:
                return None
            cut = len(_ORDER_COLUMNS)
            order, payment = LockedOrder(*row[:cut]), RecordedPayment(*row[cut:])
            if (mismatch(order, payment, intent) is not None or order.state != "pending"
                    or order.event_status == "cancelled"):
                return None
            try:
                await inventory.convert_hold(ctx.scripts, DropKeys(order.drop_id),
                                             hold_id=order.hold_id or "", order_id=order.id,
                                             now_ms=to_ms(now))
            except (HoldExpired, HoldGone):
                return None  # refunded by the general path, which finds the same
            await _ticket(conn, order, payment, intent, now, facts=await facts.fetchone())
    except TierFull:
        return await _refund_sold_out(ctx, order_id, intent, now)
    return Settled(order.id, "paid", ticketed=True, drop_id=order.drop_id, fan_id=order.user_id,
                   hold_id=order.hold_id)


async def _refund(session: AsyncSession, order: LockedOrder, reason: str, now: datetime,
                  **outcome: Any) -> Settled:
    """refunds.refund_order, which every refunding path shares, on this locked order."""
    record = await session.get(Order, order.id)
    assert record is not None
    await refunds.refund_order(session, record, reason, now)
    return Settled(order.id, record.state, reason=record.reason, **outcome)


async def _decide_order(ctx: PurchaseContext, session: AsyncSession, order: LockedOrder,
                        payment: RecordedPayment, intent: Intent, now: datetime) -> Settled:
    if intent.succeeded and order.state == "pending" and order.event_status != "cancelled":
        try:
            await inventory.convert_hold(ctx.scripts, DropKeys(order.drop_id),
                                         hold_id=order.hold_id or "", order_id=order.id,
                                         now_ms=to_ms(now))
        except (HoldExpired, HoldGone):
            await session.execute(_follow_intent(payment, intent))
            return await _refund(session, order, EXPIRED_REASON, now,
                                 refund_payment_id=payment.id, release_hold=True)
        return await _ticket(await driver_of(session), order, payment, intent, now)
    await session.execute(_follow_intent(payment, intent))
    if intent.succeeded:
        if order.state != "pending":
            # Paid already (by this intent: nothing to do) or not payable any more.
            other_paid = await session.scalar(select(Payment.id).where(
                Payment.order_id == order.id, Payment.status == "succeeded",
                Payment.id != payment.id, Payment.refund_due_at.is_(None)))
            if order.state == "paid" and other_paid is None:
                return order.as_is()
            refunds.make_refund_due(await _payment_object(session, payment.id),
                                    DUPLICATE_REASON if order.state == "paid"
                                    else order.reason or EXPIRED_REASON, now)
            return order.as_is(refund_payment_id=payment.id)
        return await _refund(session, order, CANCELLED_REASON, now,
                             refund_payment_id=payment.id, release_hold=True)
    if intent.failed and order.state == "pending":
        newest = await session.scalar(select(func.max(Payment.id)).where(
            Payment.order_id == order.id))
        if newest != payment.id:
            return order.as_is()  # a replaced attempt: the newest one decides
        hold = (await session.execute(select(Hold.state, Hold.expires_at).where(
            Hold.id == order.hold_id))).one_or_none() if order.hold_id else None
        if (intent.status == "requires_payment_method" and hold is not None
                and hold.state == "active" and hold.expires_at > now):
            # Declined (or no card yet): the seats stay the fan's until the hold expires,
            # and they may try another card; the reconciler ends it once the hold lapses.
            await session.execute(update(Order).where(Order.id == order.id)
                                  .values(reason=intent.last_error))
            return Settled(order.id, order.state, reason=intent.last_error)
        reason = intent.last_error or f"payment {intent.status.replace('_', ' ')}"
        await session.execute(update(Order).where(Order.id == order.id)
                              .values(state="failed", reason=reason))
        return Settled(order.id, "failed", reason=reason, release_hold=True)
    return order.as_is()


# `_follow_intent`, the hold's conversion and the order's own change in one statement.
PAY_ORDER = (
    "WITH payment_status AS (UPDATE payments SET status = %(status)s, updated_at = now() "
    "WHERE id = %(payment_id)s AND status <> 'refunded'), "
    "hold_converted AS (UPDATE holds SET state = 'converted' WHERE id = %(hold_id)s) "
    "UPDATE orders SET state = 'paid', paid_at = %(now)s, reason = NULL, updated_at = now() "
    "WHERE id = %(order_id)s")


async def _ticket(conn: DriverConnection, order: LockedOrder, payment: RecordedPayment,
                  intent: Intent, now: datetime, *, facts: Sequence[Any] | None = None
                  ) -> Settled:
    """The paid order: its payment, hold and order rows in one statement, its email, its
    ticket rows, and the capacity guard's hot tier-row UPDATE last, so that row stays
    locked only until the COMMIT that follows at once (TierFull rolls all of it back;
    see _decide). In pipeline mode all of it goes out in one round trip."""
    await conn.execute(PAY_ORDER, {"status": intent.status, "payment_id": payment.id,
                                   "hold_id": order.hold_id, "now": now, "order_id": order.id})
    await mail_causes.order_paid_on(conn, order, facts)
    await insert_tickets(conn, order)
    return Settled(order.id, "paid", ticketed=True)


# A fresh intent, written down before it is confirmed (no decision yet).
RECORD_INTENT = (
    "INSERT INTO payments (order_id, stripe_payment_intent_id, amount_cents, currency, "
    "status, client_secret, refunded_cents) VALUES (%(order_id)s, %(intent_id)s, "
    "%(amount)s, %(currency)s, %(status)s, %(client_secret)s, 0)")


async def record_intent(ctx: PurchaseContext, order_id: str, intent: Intent) -> None:
    """Write down a fresh intent before it is confirmed (no decision yet)."""
    async with driver_statement(engine_of(ctx.sessionmaker)) as conn:
        await conn.execute(RECORD_INTENT, {
            "order_id": order_id, "intent_id": intent.id, "amount": intent.amount,
            "currency": intent.currency, "status": intent.status,
            "client_secret": intent.client_secret})


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

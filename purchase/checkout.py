"""Checkout: one order and at most one charge per hold, however often the fan clicks Pay.

1. The order row (unique per hold) is created claimed or found, and one request
   *claims* the checkout (orders.checkout_started_at; for an existing order a
   conditional UPDATE); a fresh order is created in the same statement that reads the
   hold. Concurrent requests for the same hold see the claim and report the order as
   it stands.
2. The claimant creates an unconfirmed PaymentIntent (idempotency key from the
   hold id; metadata: order, hold, drop) and records it before any money moves.
3. It confirms the intent (the only call that charges) and settles the order.
A claim older than CLAIM_TTL belongs to a crashed request and may be taken over;
the recorded intent is then confirmed rather than a new one created.

Without a payment method (the fan's page) the intent is created without one and its
client_secret returned: the browser confirms it with the card typed into Stripe.js
Elements, so card data never reaches TicketQ. A decline keeps the order pending and
the hold live: the fan may send another card until the hold expires. The same intent
is given the new card (what Stripe expects); where it cannot be confirmed again
(localstripe pins an intent whose charge failed at requires_payment_method), it is
cancelled and one new intent replaces it, so at most one intent of an order is ever
confirmable and only one can charge. The claim is given back whenever the fan has
to act (a decline, 3-D Secure), so their next try is not refused as "in progress".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.db import driver_statement, engine_of
from core.errors import NotFound
from core.models import Order, Payment
from core.redis_keys import DropKeys
from payments.stripe_client import Intent
from purchase import inventory, settlement
from purchase.context import PurchaseContext
from purchase.holds import HoldRow

CLAIM_TTL = timedelta(seconds=60)
# The fan has to act (type another card, authenticate): the claim is given back.
FAN_TURN = {"requires_payment_method", "requires_action"}


@dataclass(frozen=True)
class CheckoutResult:
    order_id: str
    status: str  # the order's state, or the intent's while it waits (requires_action, ...)
    client_secret: str | None
    reason: str | None = None


@dataclass(frozen=True)
class _Opened:
    hold: HoldRow
    order_id: str
    claimed: bool
    payments: list[Payment]  # the order's intents, newest first (none for a fresh order)


# The hold read and the fresh order created claimed, in one statement: the order only if
# the hold is the fan's, and nothing when the hold already has its order (a retry, or a
# concurrent request, which waits on the unique index until the first one commits).
OPEN_ORDER = (
    "WITH hold AS (SELECT id, drop_id, event_id, user_id, items, total_cents, currency, "
    "expires_at, state FROM holds WHERE id = %(hold_id)s AND user_id = %(fan_id)s), "
    "created AS (INSERT INTO orders (id, user_id, event_id, drop_id, hold_id, items, "
    "total_cents, currency, state, checkout_started_at) SELECT %(order_id)s, user_id, "
    "event_id, drop_id, id, items, total_cents, currency, 'pending', %(now)s FROM hold "
    "ON CONFLICT (hold_id) DO NOTHING RETURNING id) "
    "SELECT hold.*, (SELECT id FROM created) FROM hold")


async def _open(ctx: PurchaseContext, hold_id: str, fan_id: int, now: datetime) -> _Opened:
    """Find the fan's hold, create or find its order and try to claim the checkout. A
    fresh order is created claimed (OPEN_ORDER: one statement, its own transaction, one
    round trip); an existing one is claimed by the conditional UPDATE, as a crashed
    claimant's is after CLAIM_TTL. Under READ COMMITTED each statement reads what is
    committed when it starts, so the claim needs no transaction shared with the read."""
    async with driver_statement(engine_of(ctx.sessionmaker)) as conn:
        row = await (await conn.execute(OPEN_ORDER, {
            "hold_id": hold_id, "fan_id": fan_id, "order_id": str(uuid.uuid4()), "now": now,
        })).fetchone()
    if row is None:
        raise NotFound("no such hold")
    hold, created = HoldRow(*row[:-1]), row[-1]
    if created is not None:
        return _Opened(hold, created, True, [])
    async with ctx.sessionmaker() as session, session.begin():
        claimed = await session.scalar(
            update(Order).where(
                Order.hold_id == hold.id, Order.state == "pending",
                Order.checkout_started_at.is_(None) | (Order.checkout_started_at < now - CLAIM_TTL))
            .values(checkout_started_at=now).returning(Order.id))
        if claimed is None:
            order_id = await session.scalar(select(Order.id).where(Order.hold_id == hold.id))
            assert order_id is not None
            return _Opened(hold, order_id, False, [])
        payments = list((await session.scalars(select(Payment).where(
            Payment.order_id == claimed).order_by(Payment.id.desc()))).all())
    return _Opened(hold, claimed, True, payments)


async def _unclaim(ctx: PurchaseContext, order_id: str) -> None:
    async with ctx.sessionmaker() as session, session.begin():
        await session.execute(update(Order).where(Order.id == order_id)
                              .values(checkout_started_at=None))


async def current(ctx: PurchaseContext, order_id: str) -> CheckoutResult:
    async with ctx.sessionmaker() as session:
        order = await session.get(Order, order_id)
        payment = await session.scalar(select(Payment).where(Payment.order_id == order_id)
                                       .order_by(Payment.id.desc()).limit(1))
    assert order is not None
    status = order.state
    if order.state == "pending":
        status = payment.status if payment is not None else "processing"
    secret = payment.client_secret if payment is not None else None
    return CheckoutResult(order.id, status, secret, order.reason)


async def checkout(ctx: PurchaseContext, *, hold_id: str, fan_id: int,
                   payment_method: str | None, now: datetime) -> CheckoutResult:
    opened = await _open(ctx, hold_id, fan_id, now)
    hold, order_id, payments = opened.hold, opened.order_id, opened.payments
    if not opened.claimed:
        return await current(ctx, order_id)  # paid, failed, or another request is paying
    if not payments or payment_method is not None:
        if hold.state != "active" or hold.expires_at <= now:
            await _fail_unpaid(ctx, order_id, "the hold expired before checkout", "expired")
            return await current(ctx, order_id)
        if await inventory.hold_record(ctx.scripts, DropKeys(hold.drop_id), hold_id) is None:
            await _fail_unpaid(ctx, order_id, "the hold was released before checkout", "expired")
            return await current(ctx, order_id)
    try:
        if not payments:
            intent = await _new_intent(ctx, hold, order_id, payment_method, attempt=0)
        else:
            intent = await ctx.payments.retrieve_intent(payments[0].stripe_payment_intent_id)
            if payment_method is not None and intent.status == "requires_payment_method":
                intent = await _another_card(ctx, hold, order_id, intent, payment_method,
                                             attempt=len(payments))
        if intent.status == "requires_confirmation":
            intent = await ctx.payments.confirm_intent(
                intent.id, idempotency_key=f"ticketq-confirm-{intent.id}")
    except Exception:
        # Stripe refused the card or did not answer: the fan's retry may go ahead.
        await _unclaim(ctx, order_id)
        raise
    settled = await settlement.settle(ctx, intent, now=now, order_id=order_id)
    status = intent.status if settled.state == "pending" else settled.state
    if settled.state == "pending" and intent.status in FAN_TURN:
        await _unclaim(ctx, order_id)
    return CheckoutResult(order_id, status, intent.client_secret, settled.reason)


async def _new_intent(ctx: PurchaseContext, hold: HoldRow, order_id: str,
                      payment_method: str | None, *, attempt: int) -> Intent:
    # The first attempt keeps the key it always had; a replacement gets its own.
    key = f"ticketq-hold-{hold.id}" + (f"-{attempt}" if attempt else "")
    intent = await ctx.payments.create_intent(
        amount=hold.total_cents, currency=hold.currency, payment_method=payment_method,
        idempotency_key=key,
        metadata={"order_id": order_id, "hold_id": hold.id, "drop_id": str(hold.drop_id)})
    # Recorded before confirming: whatever happens next, the ledger knows this intent.
    await settlement.record_intent(ctx, order_id, intent)
    return intent


async def _another_card(ctx: PurchaseContext, hold: HoldRow, order_id: str, intent: Intent,
                        payment_method: str, *, attempt: int) -> Intent:
    """The order's intent, given the fan's new card; replaced if it cannot take one."""
    updated = await ctx.payments.attach_payment_method(intent.id, payment_method=payment_method)
    if updated.status != "requires_payment_method":
        return updated
    cancelled = await ctx.payments.cancel_intent(intent.id)
    if cancelled.status != "canceled":
        return cancelled  # it moved on meanwhile (e.g. the browser confirmed it): settle that
    return await _new_intent(ctx, hold, order_id, payment_method, attempt=attempt)


async def _fail_unpaid(ctx: PurchaseContext, order_id: str, reason: str, state: str) -> None:
    async with ctx.sessionmaker() as session, session.begin():
        order = await session.get(Order, order_id, with_for_update=True)
        if order is not None and order.state == "pending":
            order.state, order.reason = state, reason


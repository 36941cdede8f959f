"""Checkout: one order and at most one charge per hold, however often the fan clicks Pay.

1. The order row (unique per hold) is created or found, and one request *claims*
   the checkout (orders.checkout_started_at, a conditional UPDATE). Concurrent
   requests for the same hold see the claim and report the order as it stands.
2. The claimant creates an unconfirmed PaymentIntent (idempotency key from the
   hold id; metadata: order, hold, drop) and records it before any money moves.
3. It confirms the intent (the only call that charges) and settles the order.
A claim older than CLAIM_TTL belongs to a crashed request and may be taken over;
the recorded intent is then confirmed rather than a new one created.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from core.models import Hold, Order, Payment
from core.redis_keys import DropKeys
from purchase import holds as hold_service
from purchase import inventory, settlement
from purchase.context import PurchaseContext

CLAIM_TTL = timedelta(seconds=60)


@dataclass(frozen=True)
class CheckoutResult:
    order_id: str
    status: str  # the order's state, or the intent's while it waits (requires_action, ...)
    client_secret: str | None
    reason: str | None = None


async def _order_for(ctx: PurchaseContext, hold: Hold) -> str:
    async with ctx.sessionmaker() as session, session.begin():
        await session.execute(insert(Order).values(
            id=str(uuid.uuid4()), user_id=hold.user_id, event_id=hold.event_id,
            drop_id=hold.drop_id, hold_id=hold.id, items=hold.items,
            total_cents=hold.total_cents, currency=hold.currency, state="pending",
        ).on_conflict_do_nothing(index_elements=["hold_id"]))
        order_id = await session.scalar(select(Order.id).where(Order.hold_id == hold.id))
    assert order_id is not None
    return order_id


async def _claim(ctx: PurchaseContext, order_id: str, now: datetime) -> bool:
    async with ctx.sessionmaker() as session, session.begin():
        claimed = await session.execute(
            update(Order).where(
                Order.id == order_id, Order.state == "pending",
                Order.checkout_started_at.is_(None) | (Order.checkout_started_at < now - CLAIM_TTL))
            .values(checkout_started_at=now))
        return bool(claimed.rowcount)  # type: ignore[attr-defined]


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


async def checkout(ctx: PurchaseContext, *, hold_id: str, fan_id: int, payment_method: str,
                   now: datetime) -> CheckoutResult:
    async with ctx.sessionmaker() as session:
        hold = await hold_service.get_hold(session, hold_id, fan_id)
    order_id = await _order_for(ctx, hold)
    if not await _claim(ctx, order_id, now):
        return await current(ctx, order_id)  # paid, failed, or another request is paying
    async with ctx.sessionmaker() as session:
        payment = await session.scalar(select(Payment).where(Payment.order_id == order_id)
                                       .order_by(Payment.id.desc()).limit(1))
    if payment is None:
        if hold.state != "active" or hold.expires_at <= now:
            await _fail_unpaid(ctx, order_id, "the hold expired before checkout", "expired")
            return await current(ctx, order_id)
        if await inventory.hold_record(ctx.scripts, DropKeys(hold.drop_id), hold_id) is None:
            await _fail_unpaid(ctx, order_id, "the hold was released before checkout", "expired")
            return await current(ctx, order_id)
        try:
            intent = await ctx.payments.create_intent(
                amount=hold.total_cents, currency=hold.currency, payment_method=payment_method,
                idempotency_key=f"ticketq-hold-{hold.id}",
                metadata={"order_id": order_id, "hold_id": hold.id, "drop_id": str(hold.drop_id)})
        except Exception:
            await _unclaim(ctx, order_id)  # nothing was charged: the fan may try another card
            raise
        # Recorded before confirming: whatever happens next, the ledger knows this intent.
        await settlement.record_intent(ctx, order_id, intent)
    else:
        intent = await ctx.payments.retrieve_intent(payment.stripe_payment_intent_id)
    if intent.status == "requires_confirmation":
        try:
            intent = await ctx.payments.confirm_intent(
                intent.id, idempotency_key=f"ticketq-confirm-{intent.id}")
        except Exception:
            # Stripe did not answer: the recorded intent is confirmed by the fan's retry.
            await _unclaim(ctx, order_id)
            raise
    settled = await settlement.settle(ctx, intent, now=now, order_id=order_id)
    status = intent.status if settled.state == "pending" else settled.state
    return CheckoutResult(order_id, status, intent.client_secret, settled.reason)


async def _fail_unpaid(ctx: PurchaseContext, order_id: str, reason: str, state: str) -> None:
    async with ctx.sessionmaker() as session, session.begin():
        order = await session.get(Order, order_id, with_for_update=True)
        if order is not None and order.state == "pending":
            order.state, order.reason = state, reason


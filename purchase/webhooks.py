"""Stripe webhooks: verified on the raw body, deduplicated by event id, handled idempotently.

An event is a hint, not the truth: the handler re-reads what the event names from
Stripe (the intent for payment-intent events, the intent's refunds for
charge.refunded) and acts on that, never on the body's amounts or states, so
out-of-order, replayed or lying deliveries cannot move an order. Unsigned, badly signed, stale
(older than the SDK's 5-minute tolerance) and replayed events change nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from core.models import Order, Payment, ProcessedWebhookEvent
from purchase import refunds, settlement
from purchase.context import PurchaseContext

INTENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed",
                 "payment_intent.canceled", "payment_intent.processing",
                 "payment_intent.requires_action"}
REFUND_EVENTS = {"charge.refunded"}

log = logging.getLogger("ticketq.purchase.webhooks")


async def _seen(ctx: PurchaseContext, event_id: str) -> bool:
    async with ctx.sessionmaker() as session:
        found = await session.get(ProcessedWebhookEvent, event_id)
    return found is not None


async def _remember(ctx: PurchaseContext, event_id: str, event_type: str) -> None:
    async with ctx.sessionmaker() as session, session.begin():
        await session.execute(insert(ProcessedWebhookEvent).values(
            event_id=event_id, type=event_type[:100]).on_conflict_do_nothing())


async def _external_refund(ctx: PurchaseContext, charge: dict[str, Any], now: datetime) -> None:
    """A refund made outside TicketQ (e.g. the Stripe dashboard): the order follows Stripe.

    The body only says which intent to look at. How much was refunded is what Stripe
    lists for that intent now, so a signed but lying body (or one about an intent we
    never recorded) changes nothing. Only a full refund refunds the order and its
    tickets; a partial one is recorded on the payment.
    """
    intent_id = charge.get("payment_intent")
    if not isinstance(intent_id, str):
        return
    async with ctx.sessionmaker() as session:
        known = await session.scalar(select(Payment.id).where(
            Payment.stripe_payment_intent_id == intent_id, Payment.status == "succeeded"))
    if known is None:
        return  # not ours, never paid, or refunded already: nothing to ask Stripe
    landed = await ctx.payments.refunds_of(intent_id)
    refunded_cents = sum(refund.amount for refund in landed)
    if not landed:
        log.warning("charge.refunded for intent %s, but Stripe lists no refund; ignored",
                    intent_id)
        return
    async with ctx.sessionmaker() as session, session.begin():
        payment = await session.get(Payment, known, with_for_update=True)
        if payment is None or payment.status != "succeeded":
            return
        payment.refunded_cents = refunded_cents
        if refunded_cents < payment.amount_cents:
            return
        payment.status = "refunded"
        order = None if payment.order_id is None else await session.get(
            Order, payment.order_id, with_for_update=True)
        if order is not None and order.state == "paid":
            await refunds.refund_order(session, order, "refunded by the organiser", now)
            payment.refund_due_at = payment.refund_due_at or now
            payment.stripe_refund_id = payment.stripe_refund_id or landed[0].id


async def handle_webhook(ctx: PurchaseContext, payload: bytes, signature: str | None, *,
                         now: datetime) -> str:
    """Returns what happened: "handled", "duplicate" or "ignored"."""
    event = ctx.payments.verify_event(payload, signature)
    event_id, event_type = str(event["id"]), str(event["type"])
    if await _seen(ctx, event_id):
        return "duplicate"
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    obj = obj if isinstance(obj, dict) else {}
    outcome = "ignored"
    if event_type in INTENT_EVENTS and isinstance(obj.get("id"), str):
        intent = await ctx.payments.retrieve_intent(obj["id"])
        await settlement.settle(ctx, intent, now=now)
        outcome = "handled"
    elif event_type in REFUND_EVENTS:
        await _external_refund(ctx, obj, now)
        outcome = "handled"
    await _remember(ctx, event_id, event_type)
    return outcome

"""Settlement believes Stripe, and only about the order's own intents (security finding 1).

Every attack here runs against the real localstripe: an intent made directly at
Stripe that names a dear order in its metadata, with the wrong amount, the wrong
currency or simply not the order's id, must never ticket it; a signed but lying
charge.refunded body must never refund a paid order.
"""

from __future__ import annotations

import time

import httpx
from sqlalchemy import func, select

from core.models import AuditEntry, Order, Payment, Ticket
from tests.purchase.conftest import Shop, signed
from tests.purchase.stripe_helpers import (
    AUTH,
    card_needing_authentication,
    intent_status,
    refunds_of,
)

WEBHOOK = "/webhooks/stripe"
JSON = {"content-type": "application/json"}


async def _pending_order(shop: Shop, localstripe_url: str) -> tuple[str, str, dict[str, str]]:
    """A dear pending order (2 VIP, 300 EUR) whose own intent waits for 3-D Secure."""
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, VIP=2)).json()["hold_id"]
    started = await shop.pay(fan, hold_id, card=await card_needing_authentication(localstripe_url))
    assert started.json()["status"] == "requires_action", started.text
    order_id = started.json()["order_id"]
    async with shop.ctx.sessionmaker() as session:
        intent_id = await session.scalar(select(Payment.stripe_payment_intent_id).where(
            Payment.order_id == order_id))
    return order_id, str(intent_id), fan.account.headers


async def succeeded_intent(localstripe_url: str, *, amount: int, currency: str,
                            order_id: str) -> str:
    """What an attacker with any Stripe access can make: a paid intent naming our order."""
    async with httpx.AsyncClient(base_url=localstripe_url, headers=AUTH) as http:
        created = await http.post("/v1/payment_intents", data={
            "amount": str(amount), "currency": currency, "payment_method": "pm_card_visa",
            "metadata[order_id]": order_id})
        created.raise_for_status()
        intent_id = str(created.json()["id"])
        confirmed = await http.post(f"/v1/payment_intents/{intent_id}/confirm")
        confirmed.raise_for_status()
        assert confirmed.json()["status"] == "succeeded"
    return intent_id


def _event(object_: dict, event_id: str, kind: str) -> dict:
    return {"id": event_id, "object": "event", "type": kind, "api_version": "2024-06-20",
            "created": int(time.time()), "livemode": False, "data": {"object": object_}}


async def _deliver(shop: Shop, event: dict, **signing: object) -> httpx.Response:
    body, signature = signed(event, **signing)  # type: ignore[arg-type]
    return await shop.api.post(WEBHOOK, content=body,
                               headers={**JSON, "stripe-signature": signature})


async def _ledger(shop: Shop, order_id: str) -> tuple[str, int, int]:
    """(order state, valid tickets, audit rows about the order)."""
    async with shop.ctx.sessionmaker() as session:
        order = await session.get(Order, order_id)
        tickets = await session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.order_id == order_id, Ticket.status == "valid"))
        audits = await session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.subject_type == "order", AuditEntry.subject_id == order_id,
            AuditEntry.action == "payment.rejected"))
    assert order is not None
    return order.state, int(tickets or 0), int(audits or 0)


async def _attack(shop: Shop, localstripe_url: str, *, amount: int, currency: str) -> None:
    order_id, own_intent, headers = await _pending_order(shop, localstripe_url)
    rogue = await succeeded_intent(localstripe_url, amount=amount, currency=currency,
                                    order_id=order_id)
    event = _event({"id": rogue, "object": "payment_intent"}, f"evt_rogue_{rogue}",
                   "payment_intent.succeeded")
    delivered = await _deliver(shop, event)
    assert delivered.status_code == 200, delivered.text
    polled = await shop.api.get(f"/api/orders/{order_id}", headers=headers)
    assert polled.status_code == 200, polled.text
    assert polled.json()["state"] == "pending" and polled.json()["tickets"] == []
    assert await _ledger(shop, order_id) == ("pending", 0, 1)
    assert len(await refunds_of(localstripe_url, rogue)) == 1
    assert await intent_status(localstripe_url, own_intent) == "requires_action"
    # Told again (another event id, the reconciler, a poll): still one refund, one audit row.
    again = await _deliver(shop, {**event, "id": f"evt_again_{rogue}"})
    assert again.status_code == 200
    assert await _ledger(shop, order_id) == ("pending", 0, 1)
    assert len(await refunds_of(localstripe_url, rogue)) == 1


async def test_a_cheap_intent_naming_a_dear_order_is_refunded(
    shop: Shop, localstripe_url: str
) -> None:
    await _attack(shop, localstripe_url, amount=1, currency="eur")


async def test_the_right_amount_in_the_wrong_currency_is_refunded(
    shop: Shop, localstripe_url: str
) -> None:
    await _attack(shop, localstripe_url, amount=30000, currency="usd")


async def test_the_right_amount_on_an_intent_that_is_not_the_orders_is_refunded(
    shop: Shop, localstripe_url: str
) -> None:
    await _attack(shop, localstripe_url, amount=30000, currency="eur")


async def _paid_order(shop: Shop) -> tuple[str, str]:
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, GA=2)).json()["hold_id"]
    paid = await shop.pay(fan, hold_id)
    assert paid.json()["status"] == "paid", paid.text
    async with shop.ctx.sessionmaker() as session:
        intent_id = await session.scalar(select(Payment.stripe_payment_intent_id).where(
            Payment.order_id == paid.json()["order_id"]))
    return paid.json()["order_id"], str(intent_id)


def _charge(intent_id: str) -> dict:
    return {"id": f"ch_{intent_id}", "object": "charge", "payment_intent": intent_id,
            "amount": 10000, "amount_refunded": 10000, "refunded": True, "currency": "eur"}


async def test_a_lying_charge_refunded_body_changes_nothing(
    shop: Shop, localstripe_url: str
) -> None:
    order_id, intent_id = await _paid_order(shop)
    lie = _event(_charge(intent_id), f"evt_lie_{intent_id}", "charge.refunded")
    delivered = await _deliver(shop, lie)
    assert delivered.status_code == 200, delivered.text
    assert await _ledger(shop, order_id) == ("paid", 2, 0)
    async with shop.ctx.sessionmaker() as session:
        payment = await session.scalar(select(Payment).where(
            Payment.stripe_payment_intent_id == intent_id))
    assert payment is not None and payment.status == "succeeded"
    assert payment.refunded_cents == 0 and payment.stripe_refund_id is None
    # An intent Stripe has never heard of changes nothing either (and is not a 500).
    unknown = await _deliver(shop, _event(_charge("pi_nobody"), "evt_nobody", "charge.refunded"))
    assert unknown.status_code == 200, unknown.text


async def test_a_real_refund_is_followed_once_and_forgeries_are_refused(
    shop: Shop, localstripe_url: str
) -> None:
    order_id, intent_id = await _paid_order(shop)
    event = _event(_charge(intent_id), f"evt_refund_{intent_id}", "charge.refunded")
    for signing in ({"secret": "whsec_someone_else"}, {"timestamp": int(time.time()) - 3600}):
        refused = await _deliver(shop, event, **signing)
        assert refused.status_code == 400, refused.text
    assert await _ledger(shop, order_id) == ("paid", 2, 0)
    async with httpx.AsyncClient(base_url=localstripe_url, headers=AUTH) as http:
        made = await http.post("/v1/refunds", data={"payment_intent": intent_id})
        made.raise_for_status()  # the organiser refunds in the Stripe dashboard
    handled = await _deliver(shop, event)
    assert handled.json()["outcome"] == "handled", handled.text
    assert await _ledger(shop, order_id) == ("refunded", 0, 0)
    replay = await _deliver(shop, event)
    assert replay.json()["outcome"] == "duplicate"
    async with shop.ctx.sessionmaker() as session:
        payment = await session.scalar(select(Payment).where(
            Payment.stripe_payment_intent_id == intent_id))
    assert payment is not None and payment.status == "refunded"
    assert (payment.refunded_cents, payment.stripe_refund_id) == (10000, made.json()["id"])
    assert len(await refunds_of(localstripe_url, intent_id)) == 1

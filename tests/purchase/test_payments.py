"""Money paths: paid after expiry, webhooks (forged, stale, replayed), lost webhooks, refunds."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from core.models import Order, Payment, ProcessedWebhookEvent, Ticket, TicketTier
from purchase import holds as hold_service
from purchase.jobs import reconcile_payments
from purchase.reconcile import reconcile_drop
from tests.purchase.conftest import Fan, Shop, signed
from tests.purchase.stripe_helpers import (
    authenticate,
    card_needing_authentication,
    intent_status,
    refunds_of,
)


async def _pending_3ds_order(shop: Shop, localstripe_url: str) -> tuple[Fan, str, str, str]:
    """A fan whose payment waits for 3-D Secure: (fan, hold id, order id, intent id)."""
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, GA=2)).json()["hold_id"]
    card = await card_needing_authentication(localstripe_url)
    started = await shop.pay(fan, hold_id, card=card)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "requires_action"
    assert started.json()["client_secret"]
    async with shop.ctx.sessionmaker() as session:
        intent_id = await session.scalar(select(Payment.stripe_payment_intent_id).where(
            Payment.order_id == started.json()["order_id"]))
    return fan, hold_id, started.json()["order_id"], str(intent_id)


async def _order(shop: Shop, order_id: str) -> Order:
    async with shop.ctx.sessionmaker() as session:
        order = await session.get(Order, order_id)
    assert order is not None
    return order


async def test_paid_after_expiry_is_refunded_once(shop: Shop, localstripe_url: str) -> None:
    fan, hold_id, order_id, intent_id = await _pending_3ds_order(shop, localstripe_url)
    shop.clock.advance(601)
    assert await hold_service.sweep_drop(shop.ctx, shop.drop_id, now=shop.clock()) == [hold_id]
    assert await shop.stock() == {shop.tier("GA"): 20, shop.tier("VIP"): 4}
    payment = (await shop.api.get(f"/api/orders/{order_id}", headers=fan.account.headers)).json()
    secret = await _client_secret(shop, order_id)
    await authenticate(localstripe_url, intent_id, secret)  # money moves after the hold expired
    for _ in range(2):  # the poll settles; a second poll changes nothing
        polled = await shop.api.get(f"/api/orders/{order_id}", headers=fan.account.headers)
        assert polled.json()["state"] == "refunded", polled.text
        assert "expired" in polled.json()["reason"]
        assert polled.json()["tickets"] == []
    assert payment["state"] == "pending"
    assert len(await refunds_of(localstripe_url, intent_id)) == 1
    assert await shop.stock() == {shop.tier("GA"): 20, shop.tier("VIP"): 4}


async def _client_secret(shop: Shop, order_id: str) -> str:
    async with shop.ctx.sessionmaker() as session:
        secret = await session.scalar(select(Payment.client_secret).where(
            Payment.order_id == order_id))
    assert secret
    return str(secret)


def _event(intent_id: str, event_id: str, kind: str = "payment_intent.succeeded") -> dict:
    return {"id": event_id, "object": "event", "type": kind, "api_version": "2024-06-20",
            "created": int(time.time()), "livemode": False,
            "data": {"object": {"id": intent_id, "object": "payment_intent"}}}


async def test_webhooks_forged_stale_or_replayed_change_nothing(
    shop: Shop, localstripe_url: str
) -> None:
    _, _, order_id, intent_id = await _pending_3ds_order(shop, localstripe_url)
    await authenticate(localstripe_url, intent_id, await _client_secret(shop, order_id))
    event = _event(intent_id, f"evt_{order_id[:8]}")
    body, good = signed(event)
    _, forged = signed(event, secret="whsec_someone_else")
    _, stale = signed(event, timestamp=int(time.time()) - 3600)
    url = "/webhooks/stripe"
    json_type = {"content-type": "application/json"}
    for headers in ({}, {"stripe-signature": forged}, {"stripe-signature": stale},
                    {"stripe-signature": "t=1,v1=nothex"}, {"stripe-signature": "garbage"}):
        refused = await shop.api.post(url, content=body, headers={**json_type, **headers})
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    tampered = body.replace(b"payment_intent.succeeded", b"payment_intent.canceled")
    refused = await shop.api.post(url, content=tampered,
                                  headers={**json_type, "stripe-signature": good})
    assert refused.status_code == 400
    assert (await _order(shop, order_id)).state == "pending"

    signed_headers = {**json_type, "stripe-signature": good}
    handled = await shop.api.post(url, content=body, headers=signed_headers)
    assert handled.json()["outcome"] == "handled", handled.text
    assert (await _order(shop, order_id)).state == "paid"
    replay = await shop.api.post(url, content=body, headers=signed_headers)
    assert replay.json()["outcome"] == "duplicate"
    # A failure notice arriving late (another event id) cannot move a paid order backwards.
    late_body, late_sig = signed(_event(intent_id, f"evt_late_{order_id[:8]}",
                                        "payment_intent.payment_failed"))
    late = await shop.api.post(url, content=late_body,
                               headers={**json_type, "stripe-signature": late_sig})
    assert late.status_code == 200
    order = await _order(shop, order_id)
    assert order.state == "paid"
    async with shop.ctx.sessionmaker() as session:
        tickets = await session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.order_id == order_id))
        seen = await session.scalar(select(func.count()).select_from(ProcessedWebhookEvent).where(
            ProcessedWebhookEvent.event_id == event["id"]))
    assert (tickets, seen) == (2, 1)
    assert await refunds_of(localstripe_url, intent_id) == []


async def test_a_lost_webhook_never_strands_a_paid_fan(shop: Shop, localstripe_url: str) -> None:
    _, _, order_id, intent_id = await _pending_3ds_order(shop, localstripe_url)
    await authenticate(localstripe_url, intent_id, await _client_secret(shop, order_id))
    shop.clock.advance(31)  # no webhook, no poll: the reconciler job finds it
    await reconcile_payments(shop.ctx, now=shop.clock())
    assert (await _order(shop, order_id)).state == "paid"


async def test_reconciler_cancels_intents_whose_hold_lapsed(
    shop: Shop, localstripe_url: str
) -> None:
    _, _, order_id, intent_id = await _pending_3ds_order(shop, localstripe_url)
    shop.clock.advance(601)
    await reconcile_payments(shop.ctx, now=shop.clock())
    order = await _order(shop, order_id)
    assert order.state == "failed"
    assert await intent_status(localstripe_url, intent_id) == "canceled"
    await hold_service.sweep_drop(shop.ctx, shop.drop_id, now=shop.clock())
    assert await shop.stock() == {shop.tier("GA"): 20, shop.tier("VIP"): 4}


async def test_a_wrong_redis_never_oversells_the_ledger_refunds(
    shop: Shop, localstripe_url: str
) -> None:
    """Redis believes in seats the ledger does not have: the commit refuses, the fan is refunded."""
    await reconcile_drop(shop.ctx, shop.drop_id, now=shop.clock())  # Redis: 4 VIP left
    async with shop.ctx.sessionmaker() as session, session.begin():
        tier = await session.get(TicketTier, shop.tier("VIP"))
        assert tier is not None
        tier.sold = 3  # sold elsewhere; Redis still says 4 left
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, VIP=2)).json()["hold_id"]
    paid = await shop.pay(fan, hold_id)
    assert paid.json()["status"] == "refunded", paid.text
    assert "sold out" in paid.json()["reason"]
    async with shop.ctx.sessionmaker() as session:
        tier = await session.get(TicketTier, shop.tier("VIP"))
        intent_id = await session.scalar(select(Payment.stripe_payment_intent_id).where(
            Payment.order_id == paid.json()["order_id"]))
        tickets = await session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.order_id == paid.json()["order_id"]))
    assert tier is not None and tier.sold == 3 and tickets == 0
    assert len(await refunds_of(localstripe_url, str(intent_id))) == 1
    # The fan's per-fan count came back (the ledger sold them nothing).
    assert await shop.ctx.scripts.client.hget(f"tq:{{ev:{shop.drop_id}}}:fancount",
                                              f"{fan.account.id}:{shop.tier('VIP')}") is None

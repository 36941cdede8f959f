"""End to end over real processes: localstripe delivers a signed webhook to a uvicorn gateway."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from core.models import AuditEntry, Order, Payment
from core.redis_client import close_redis, create_redis
from tests.purchase.passes import grant_pass
from tests.purchase.stripe_helpers import (
    authenticate,
    card_needing_authentication,
    refunds_of,
)
from tests.purchase.test_settlement_checks import succeeded_intent
from tests.support.api import Account, create_drop_setup, sign_up
from tests.support.processes import RunningProcess
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


async def _fan_holding_two_seats(http: httpx.AsyncClient, ctx) -> tuple[Account, httpx.Response]:
    """A new fan with an admission pass who has asked the live gateway for two GA seats."""
    setup = await create_drop_setup(http)
    fan = await sign_up(http, "live")
    redis = create_redis(ctx.settings.redis_url or "")
    try:
        admission, _ = await grant_pass(redis, ctx.settings.secret_key, setup.drop_id, fan.id)
    finally:
        await close_redis(redis)
    held = await http.post(f"/api/drops/{setup.drop_id}/holds",
                           headers={**fan.headers, "X-Admission-Pass": admission},
                           json={"items": [{"tier_id": setup.tier_ids["GA"], "quantity": 2}]})
    return fan, held


async def test_webhook_settles_a_payment_that_completes_later(
    paying_gateway: RunningProcess, localstripe_url: str, ctx
) -> None:
    async with httpx.AsyncClient(base_url=paying_gateway.url, timeout=30) as http:
        fan, held = await _fan_holding_two_seats(http, ctx)
        assert held.status_code == 201, held.text
        card = await card_needing_authentication(localstripe_url)
        started = await http.post(f"/api/holds/{held.json()['hold_id']}/checkout",
                                  headers=fan.headers, json={"payment_method": card})
        assert started.json()["status"] == "requires_action", started.text
    order_id = started.json()["order_id"]
    async with ctx.sessionmaker() as session:
        intent_id = await session.scalar(select(Payment.stripe_payment_intent_id).where(
            Payment.order_id == order_id))
    await authenticate(localstripe_url, str(intent_id), started.json()["client_secret"])
    # Nobody polls the order: only the webhook can settle it.
    async def settled_state() -> str | None:
        async with ctx.sessionmaker() as session:
            order = await session.get(Order, order_id)
        return None if order is None or order.state == "pending" else order.state

    state = await eventually(settled_state, message="the webhook to settle the order")
    assert state == "paid", paying_gateway.log()



async def test_a_cheap_intent_delivered_by_localstripe_tickets_nothing(
    paying_gateway: RunningProcess, localstripe_url: str, ctx
) -> None:
    """Finding 1 end to end: localstripe itself signs and delivers the rogue intent's event."""
    async with httpx.AsyncClient(base_url=paying_gateway.url, timeout=30) as http:
        fan, held = await _fan_holding_two_seats(http, ctx)
        card = await card_needing_authentication(localstripe_url)
        started = await http.post(f"/api/holds/{held.json()['hold_id']}/checkout",
                                  headers=fan.headers, json={"payment_method": card})
        assert started.json()["status"] == "requires_action", started.text
        order_id = started.json()["order_id"]
        rogue = await succeeded_intent(localstripe_url, amount=1, currency="eur",
                                       order_id=order_id)
        # Nobody polls: only the webhook localstripe sends can act, and it must refund.
        refunded = await eventually(lambda: refunds_of(localstripe_url, rogue), timeout_s=20,
                                    message=f"the rogue intent refunded\n{paying_gateway.log()}")
        assert len(refunded) == 1, paying_gateway.log()
        polled = await http.get(f"/api/orders/{order_id}", headers=fan.headers)
    assert polled.json()["state"] == "pending" and polled.json()["tickets"] == []
    async with ctx.sessionmaker() as session:
        audited = await session.scalar(select(AuditEntry.id).where(
            AuditEntry.action == "payment.rejected", AuditEntry.subject_id == order_id))
    assert audited is not None

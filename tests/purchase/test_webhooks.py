"""End to end over real processes: localstripe delivers a signed webhook to a uvicorn gateway."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from core.models import Order, Payment
from core.redis_client import close_redis, create_redis
from tests.purchase.passes import grant_pass
from tests.purchase.stripe_helpers import authenticate, card_needing_authentication
from tests.support.api import create_drop_setup, sign_up
from tests.support.processes import RunningProcess
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


async def test_webhook_settles_a_payment_that_completes_later(
    paying_gateway: RunningProcess, localstripe_url: str, ctx
) -> None:
    async with httpx.AsyncClient(base_url=paying_gateway.url, timeout=30) as http:
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

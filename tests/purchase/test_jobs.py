"""The purchase jobs as the worker runs them: each does its work without being asked twice."""

from __future__ import annotations

import asyncio

from core.models import Order
from purchase import jobs
from tests.purchase.conftest import Shop
from tests.support.waiting import eventually


async def test_hold_sweeper_reconciles_at_start_then_returns_expired_holds(shop: Shop) -> None:
    fan = await shop.fan()
    await shop.hold(fan, GA=3)
    await shop.ctx.scripts.client.hset(f"tq:{{ev:{shop.drop_id}}}:stock", str(shop.tier("VIP")), 77)
    shop.clock.advance(601)
    task = asyncio.create_task(jobs.hold_sweeper(shop.ctx))
    try:
        async def restored() -> bool:
            return await shop.stock() == {shop.tier("GA"): 20, shop.tier("VIP"): 4}

        await eventually(restored, message="stock restored and expired holds returned")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_cancellation_refunder_finishes_a_cancellation(shop: Shop) -> None:
    fan = await shop.fan()
    paid = await shop.pay(fan, (await shop.hold(fan, GA=1)).json()["hold_id"])
    order_id = paid.json()["order_id"]
    cancelled = await shop.api.post(f"/api/events/{shop.setup.event_id}/cancel",
                                    headers=shop.setup.admin.headers, json={})
    assert cancelled.status_code == 202
    progress_path = f"/api/events/{shop.setup.event_id}/cancellation"
    task = asyncio.create_task(jobs.cancellation_refunder(shop.ctx))
    try:
        # The order turns "refunded" when its refund is decided; the Stripe refund is
        # recorded just after, so wait for both before stopping the job.
        async def refunded() -> bool:
            async with shop.ctx.sessionmaker() as session:
                order = await session.get(Order, order_id)
            pending = (await shop.api.get(progress_path, headers=shop.setup.admin.headers)
                       ).json()["refunds_pending"]
            return order is not None and order.state == "refunded" and pending == 0

        await eventually(refunded, message="the order refunded and no refund pending")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    progress = await shop.api.get(progress_path, headers=shop.setup.admin.headers)
    assert progress.json()["refunds_pending"] == 0


async def test_purchase_routes_are_documented_and_refuse_junk(shop: Shop) -> None:
    spec = (await shop.api.get("/openapi.json")).json()["paths"]
    for path in ("/api/drops/{drop_id}/holds", "/api/holds/{hold_id}/checkout",
                 "/api/orders/{order_id}", "/api/me/orders", "/api/events/{event_id}/sales",
                 "/api/events/{event_id}/cancel", "/webhooks/stripe"):
        assert path in spec, path
    admin = shop.setup.admin.headers
    cases = [
        ("post", f"/api/events/{shop.setup.event_id}/cancel", admin, {"reason": 5}, 422),
        ("post", f"/api/events/{shop.setup.event_id}/cancel", admin, {"why": "x"}, 422),
        ("get", "/api/events/nope/sales", admin, None, 404),
        ("get", "/api/events/99999999/sales", admin, None, 404),
        ("get", f"/api/events/{shop.setup.event_id}/cancellation", admin, None, 404),
        ("delete", "/api/holds/123", admin, None, 404),
        ("post", "/api/holds/00000000-0000-0000-0000-000000000000/checkout", admin,
         {"payment_method": "pm_card_visa"}, 404),
        ("post", "/api/holds/00000000-0000-0000-0000-000000000000/checkout", admin,
         {"payment_method": 7}, 422),
    ]
    for method, url, headers, body, status in cases:
        answer = await shop.api.request(method, url, headers=headers, json=body)
        assert answer.status_code == status, (url, body, answer.text)
    too_big = await shop.api.post("/webhooks/stripe", content=b"x" * 100_000,
                                  headers={"stripe-signature": "t=1,v1=00"})
    assert too_big.status_code == 413

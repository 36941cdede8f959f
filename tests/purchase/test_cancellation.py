"""Event cancellation refunds every paid order in batches, resumable, each exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.models import Payment
from purchase import cancellation, refunds
from tests.purchase.conftest import Shop
from tests.purchase.stripe_helpers import refunds_of


async def _paid_orders(shop: Shop, count: int) -> list[str]:
    order_ids = []
    for _ in range(count):
        fan = await shop.fan()
        hold_id = (await shop.hold(fan, GA=1)).json()["hold_id"]
        paid = await shop.pay(fan, hold_id)
        assert paid.json()["status"] == "paid"
        order_ids.append(paid.json()["order_id"])
    return order_ids


async def test_cancellation_refunds_in_resumable_batches(
    shop: Shop, localstripe_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_ids = await _paid_orders(shop, 4)
    url = f"/api/events/{shop.setup.event_id}/cancel"
    fan = await shop.fan()
    assert (await shop.api.post(url, headers=fan.account.headers, json={})).status_code == 403
    early = await shop.fan()  # a join syncs the drop's config into Redis before the cancel
    assert (await shop.api.post(f"/api/drops/{shop.drop_id}/queue",
                                headers=early.account.headers)).status_code == 201
    cancelled = await shop.api.post(url, headers=shop.setup.admin.headers,
                                    json={"reason": "storm"})
    assert cancelled.status_code == 202, cancelled.text
    assert cancelled.json()["paid_orders_left"] == 4
    assert (await shop.hold(fan, GA=1)).status_code == 409  # sales stopped
    # The waiting room refuses new fans at once (its meta is synced on cancel).
    newcomer = await shop.fan()
    joined = await shop.api.post(f"/api/drops/{shop.drop_id}/queue",
                                 headers=newcomer.account.headers)
    assert joined.status_code == 409 and joined.json()["reason"] == "cancelled", joined.text

    real_refund = shop.ctx.payments.refund
    calls = 0

    async def crash_after_stripe(*args, **kwargs):
        nonlocal calls
        calls += 1
        result = await real_refund(*args, **kwargs)
        if calls == 2:  # the refund landed at Stripe, then the refunder died
            raise RuntimeError("refunder crashed")
        return result

    monkeypatch.setattr(shop.ctx.payments, "refund", crash_after_stripe)
    now = shop.clock()
    assert await cancellation.refund_batch(shop.ctx, event_id=shop.setup.event_id, now=now,
                                           batch=1) == 1
    with pytest.raises(RuntimeError):
        await cancellation.refund_batch(shop.ctx, event_id=shop.setup.event_id, now=now, batch=1)
    monkeypatch.setattr(shop.ctx.payments, "refund", real_refund)
    # Until its claim goes stale nobody touches the crashed refund; later it is found, not redone.
    later = now + refunds.CLAIM_TTL + timedelta(seconds=1)
    for _ in range(5):
        await cancellation.refund_batch(shop.ctx, event_id=shop.setup.event_id, now=later, batch=2)
    progress = await shop.api.get(f"/api/events/{shop.setup.event_id}/cancellation",
                                  headers=shop.setup.admin.headers)
    assert progress.json()["status"] == "done", progress.text
    assert progress.json()["refunded_orders"] == 4
    async with shop.ctx.sessionmaker() as session:
        payments = list(await session.scalars(
            select(Payment).where(Payment.order_id.in_(order_ids))))
    assert len(payments) == 4
    for payment in payments:
        assert payment.stripe_refund_id and payment.status == "refunded"
        assert len(await refunds_of(localstripe_url, payment.stripe_payment_intent_id)) == 1
    for order_id in order_ids:
        order = await shop.api.get(f"/api/orders/{order_id}",
                                   headers=shop.setup.admin.headers)
        assert order.status_code == 404  # not the admin's order

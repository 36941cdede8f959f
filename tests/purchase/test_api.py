"""Holds, checkout and orders through the HTTP API, against real Redis, Postgres and localstripe."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from core.models import Hold, Order, Payment, Ticket, TicketTier
from purchase import holds as hold_service
from purchase import settlement
from purchase.jobs import reconcile_payments
from tests.purchase.conftest import Shop
from tests.support.api import sign_up


async def _count(ctx, model, *where) -> int:
    async with ctx.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_hold_then_pay_issues_tickets(shop: Shop) -> None:
    fan = await shop.fan()
    held = await shop.hold(fan, GA=2, VIP=1)
    assert held.status_code == 201, held.text
    body = held.json()
    assert body["total_cents"] == 2 * 5000 + 15000 and body["currency"] == "EUR"
    assert [item["quantity"] for item in body["items"]] == [2, 1]
    assert await shop.stock() == {shop.tier("GA"): 18, shop.tier("VIP"): 3}

    paid = await shop.pay(fan, body["hold_id"])
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    order_url = f"/api/orders/{paid.json()['order_id']}"
    order = await shop.api.get(order_url, headers=fan.account.headers)
    assert order.json()["state"] == "paid"
    assert len(order.json()["tickets"]) == 3
    assert await shop.stock() == {shop.tier("GA"): 18, shop.tier("VIP"): 3}
    async with shop.ctx.sessionmaker() as session:
        tier = await session.get(TicketTier, shop.tier("GA"))
        assert tier is not None and tier.sold == 2
        hold = await session.get(Hold, body["hold_id"])
        assert hold is not None and hold.state == "converted"
    # The fan's active slot in the waiting room is free for the next fan.
    active = await shop.ctx.scripts.client.zscore(f"tq:{{ev:{shop.drop_id}}}:active",
                                                  str(fan.account.id))
    assert active is None
    mine = await shop.api.get("/api/me/orders", headers=fan.account.headers)
    assert [o["id"] for o in mine.json()["orders"]] == [paid.json()["order_id"]]


async def test_a_declined_card_keeps_the_seats_and_another_card_pays(shop: Shop) -> None:
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, GA=3)).json()["hold_id"]
    held_stock = await shop.stock()
    assert held_stock == {shop.tier("GA"): 17, shop.tier("VIP"): 4}
    declined = await shop.pay(fan, hold_id, card="pm_card_chargeCustomerFail")
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "requires_payment_method"
    assert "declined" in declined.json()["reason"]
    # The seats never left the fan: Redis stock, the hold and its record are untouched.
    assert await shop.stock() == held_stock
    async with shop.ctx.sessionmaker() as session:
        hold = await session.get(Hold, hold_id)
        assert hold is not None and hold.state == "active"
    order_id = declined.json()["order_id"]
    assert await _count(shop.ctx, Ticket, Ticket.order_id == order_id) == 0
    # The webhook and the fan's poll settle from Stripe's state: the decline still moves nothing.
    async with shop.ctx.sessionmaker() as session:
        intent_id = await session.scalar(select(Payment.stripe_payment_intent_id).where(
            Payment.order_id == order_id))
    assert intent_id is not None
    await settlement.settle(shop.ctx, await shop.ctx.payments.retrieve_intent(intent_id),
                            now=shop.clock())
    polled = await shop.api.get(f"/api/orders/{order_id}", headers=fan.account.headers)
    assert polled.json()["state"] == "pending" and "declined" in polled.json()["reason"]
    assert await shop.stock() == held_stock

    paid = await shop.pay(fan, hold_id, card="pm_card_visa")
    assert paid.status_code == 200, paid.text
    assert (paid.json()["order_id"], paid.json()["status"]) == (order_id, "paid")
    assert await _count(shop.ctx, Order, Order.hold_id == hold_id) == 1
    assert await _count(shop.ctx, Ticket, Ticket.order_id == order_id) == 3
    assert await _count(shop.ctx, Payment, Payment.order_id == order_id,
                        Payment.status == "succeeded") == 1
    assert await shop.stock() == held_stock
    # Paid is final: another card sent afterwards charges nothing.
    again = await shop.pay(fan, hold_id, card="pm_card_visa")
    assert again.json()["status"] == "paid"
    assert await _count(shop.ctx, Payment, Payment.order_id == order_id) == 2


async def test_a_declined_order_ends_when_its_hold_expires(shop: Shop) -> None:
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, GA=2)).json()["hold_id"]
    declined = await shop.pay(fan, hold_id, card="pm_card_chargeCustomerFail")
    assert declined.json()["status"] == "requires_payment_method"
    shop.clock.advance(601)  # the fan never tried another card
    await reconcile_payments(shop.ctx, now=shop.clock())
    await hold_service.sweep_drop(shop.ctx, shop.drop_id, now=shop.clock())
    async with shop.ctx.sessionmaker() as session:
        order = await session.get(Order, declined.json()["order_id"])
    assert order is not None and order.state == "failed"
    assert await shop.stock() == {shop.tier("GA"): 20, shop.tier("VIP"): 4}
    late = await shop.pay(fan, hold_id, card="pm_card_visa")
    assert late.json()["status"] == "failed"
    assert await _count(shop.ctx, Payment, Payment.order_id == order.id,
                        Payment.status == "succeeded") == 0


async def test_without_a_card_checkout_returns_an_intent_for_the_browser(shop: Shop) -> None:
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, VIP=1)).json()["hold_id"]
    for _ in range(2):  # asked twice: the same intent, nothing charged
        answer = await shop.api.post(f"/api/holds/{hold_id}/checkout",
                                     headers=fan.account.headers, json={})
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "requires_payment_method"
        assert answer.json()["client_secret"].startswith("pi_")
    order_id = answer.json()["order_id"]
    assert await _count(shop.ctx, Payment, Payment.order_id == order_id) == 1
    paid = await shop.pay(fan, hold_id, card="pm_card_visa")
    assert paid.json()["status"] == "paid"


async def test_checkout_refuses_a_payment_method_that_is_no_stripe_id(shop: Shop) -> None:
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, VIP=1)).json()["hold_id"]
    for bad in ("4242424242424242", "tok_visa", "pm_", "card_a b", 7):
        refused = await shop.api.post(f"/api/holds/{hold_id}/checkout",
                                      headers=fan.account.headers, json={"payment_method": bad})
        assert refused.status_code == 422, (bad, refused.text)
    assert await _count(shop.ctx, Order, Order.hold_id == hold_id) == 0


async def test_release_returns_stock_once_and_only_for_the_owner(shop: Shop) -> None:
    fan, other = await shop.fan(), await shop.fan()
    hold_id = (await shop.hold(fan, VIP=2)).json()["hold_id"]
    stolen = await shop.api.delete(f"/api/holds/{hold_id}", headers=other.account.headers)
    assert stolen.status_code == 404
    assert await shop.stock() == {shop.tier("GA"): 20, shop.tier("VIP"): 2}
    for _ in range(2):
        released = await shop.api.delete(f"/api/holds/{hold_id}", headers=fan.account.headers)
        assert released.status_code == 204
    assert await shop.stock() == {shop.tier("GA"): 20, shop.tier("VIP"): 4}
    paid = await shop.pay(fan, hold_id)
    assert paid.json()["status"] == "expired"
    assert await _count(shop.ctx, Payment, Payment.order_id == paid.json()["order_id"]) == 0


async def test_expiry_returns_stock_and_an_expired_hold_cannot_be_paid(shop: Shop) -> None:
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, GA=4)).json()["hold_id"]
    shop.clock.advance(shop_hold_seconds(shop) + 1)
    swept = await hold_service.sweep_drop(shop.ctx, shop.drop_id, now=shop.clock())
    assert swept == [hold_id]
    assert await shop.stock() == {shop.tier("GA"): 20, shop.tier("VIP"): 4}
    async with shop.ctx.sessionmaker() as session:
        hold = await session.get(Hold, hold_id)
        assert hold is not None and hold.state == "expired"
    paid = await shop.pay(fan, hold_id)
    assert paid.json()["status"] == "expired"


async def test_a_dead_sweeper_strands_nothing(shop: Shop) -> None:
    """Expired holds are reclaimed lazily when stock looks short."""
    first, second = await shop.fan(), await shop.fan()
    assert (await shop.hold(first, VIP=2)).status_code == 201
    assert (await shop.hold(second, VIP=2)).status_code == 201
    late = await shop.fan()
    assert (await shop.hold(late, VIP=1)).status_code == 409
    shop.clock.advance(shop_hold_seconds(shop) + 1)
    late = await shop.admit(late.account)
    assert (await shop.hold(late, VIP=2)).status_code == 201
    assert await shop.stock() == {shop.tier("GA"): 20, shop.tier("VIP"): 2}


async def test_same_checkout_twice_charges_once(shop: Shop) -> None:
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, GA=1)).json()["hold_id"]
    answers = await asyncio.gather(*(shop.pay(fan, hold_id) for _ in range(5)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["order_id"] for a in answers}) == 1
    again = await shop.pay(fan, hold_id)
    assert again.json()["status"] == "paid"
    order_id = again.json()["order_id"]
    assert await _count(shop.ctx, Payment, Payment.order_id == order_id) == 1
    assert await _count(shop.ctx, Order, Order.hold_id == hold_id) == 1
    assert await _count(shop.ctx, Ticket, Ticket.order_id == order_id) == 1


async def test_orders_belong_to_their_owner(shop: Shop) -> None:
    fan = await shop.fan()
    stranger = await sign_up(shop.api, "stranger")
    hold_id = (await shop.hold(fan, GA=1)).json()["hold_id"]
    order_id = (await shop.pay(fan, hold_id)).json()["order_id"]
    for url, headers in ((f"/api/orders/{order_id}", stranger.headers),
                         ("/api/orders/not-a-uuid", fan.account.headers)):
        assert (await shop.api.get(url, headers=headers)).status_code == 404
    assert (await shop.api.get(f"/api/orders/{order_id}")).status_code == 401
    assert (await shop.pay(await shop.admit(stranger), hold_id)).status_code == 404


async def test_sales_for_venue_admins_only(shop: Shop) -> None:
    fan = await shop.fan()
    hold_id = (await shop.hold(fan, GA=2)).json()["hold_id"]
    await shop.pay(fan, hold_id)
    await shop.hold(await shop.fan(), VIP=1)
    sales = await shop.api.get(f"/api/events/{shop.setup.event_id}/sales",
                               headers=shop.setup.admin.headers)
    assert sales.status_code == 200, sales.text
    tiers = {tier["name"]: tier for tier in sales.json()["tiers"]}
    assert (tiers["GA"]["sold"], tiers["GA"]["held"], tiers["GA"]["remaining"]) == (2, 0, 18)
    assert (tiers["VIP"]["sold"], tiers["VIP"]["held"], tiers["VIP"]["remaining"]) == (0, 1, 3)
    assert sales.json()["revenue"] == [{"currency": "EUR", "paid_orders": 1, "revenue_cents": 10000,
                                        "refunded_orders": 0, "refunded_cents": 0}]
    denied = await shop.api.get(f"/api/events/{shop.setup.event_id}/sales",
                                headers=fan.account.headers)
    assert denied.status_code == 403


async def test_bad_input_is_a_clear_4xx_and_holds_nothing(shop: Shop) -> None:
    fan = await shop.fan()
    url = f"/api/drops/{shop.drop_id}/holds"
    good = {"items": [{"tier_id": shop.tier("GA"), "quantity": 1}]}
    other = await shop.fan()
    cases: list[tuple[dict[str, str], object, int]] = [
        (fan.account.headers, good, 401),  # no pass
        ({**fan.account.headers, "X-Admission-Pass": "forged"}, good, 401),
        ({**fan.account.headers, "X-Admission-Pass": other.admission_pass}, good, 403),
        (fan.headers, {"items": []}, 422),
        (fan.headers, {"items": [{"tier_id": shop.tier("GA"), "quantity": 0}]}, 422),
        (fan.headers, {"items": [{"tier_id": shop.tier("GA"), "quantity": "1"}]}, 422),
        (fan.headers, {"items": [{"tier_id": 999999, "quantity": 1}]}, 422),
        (fan.headers, {"items": [{"tier_id": shop.tier("GA"), "quantity": 1}], "x": 1}, 422),
        (fan.headers, {"items": [{"tier_id": shop.tier("VIP"), "quantity": 3}]}, 409),  # limit
        (fan.headers, {"items": [{"tier_id": shop.tier("GA"), "quantity": 5}]}, 409),
        ({"X-Admission-Pass": fan.admission_pass}, good, 401),  # not signed in
    ]
    for headers, body, status in cases:
        answer = await shop.api.post(url, headers=headers, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    junk = await shop.api.post(url, headers={**fan.headers, "content-type": "application/json"},
                               content=b"{not json")
    assert junk.status_code == 400
    assert (await shop.api.post("/api/drops/99999999/holds", headers=fan.headers,
                                json=good)).status_code in {403, 404}
    assert await shop.stock() == {shop.tier("GA"): 20, shop.tier("VIP"): 4}
    assert await _count(shop.ctx, Hold, Hold.drop_id == shop.drop_id) == 0
    hold_id = (await shop.hold(fan, GA=1)).json()["hold_id"]
    for card in ("visa", "pm_", "pm_card_visa; drop"):
        refused = await shop.pay(fan, hold_id, card=card)
        assert refused.status_code == 422, refused.text
    unknown = await shop.pay(fan, hold_id, card="pm_card_unknown_to_stripe")
    assert unknown.status_code == 422, unknown.text
    assert (await shop.pay(fan, hold_id)).json()["status"] == "paid"


def shop_hold_seconds(shop: Shop) -> int:
    return 600

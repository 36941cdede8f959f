"""A venue refunds one order in full: Stripe once, tickets scan Refunded, one email, one audit row.

Everything real: localstripe refunds, Postgres ledger and outbox, the scanner's
online check-in and bundle over HTTP.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, update

from core.errors import Busy
from core.models import AuditEntry, Payment, TicketTier, User
from mail.models import OutboxMessage
from purchase import refunds
from tests.purchase.conftest import Fan, Shop
from tests.purchase.stripe_helpers import refunds_of
from tests.scanner.factory import add_scanner, live_payload, scan_body
from tests.support.api import create_drop_setup, sign_up


async def _paid_order(shop: Shop, fan: Fan, **quantities: int) -> dict:
    hold = await shop.hold(fan, **quantities)
    assert hold.status_code == 201, hold.text
    paid = await shop.pay(fan, hold.json()["hold_id"])
    assert paid.json()["status"] == "paid", paid.text
    order = await shop.api.get(f"/api/orders/{paid.json()['order_id']}",
                               headers=fan.account.headers)
    return dict(order.json())


async def _refund(shop: Shop, order_id: str, reason: str = "duplicate booking"):
    return await shop.api.post(f"/api/orders/{order_id}/refund",
                               headers=shop.setup.admin.headers, json={"reason": reason})


async def _counts(shop: Shop, order_id: str) -> tuple[int, int]:
    """(order_refunded emails, order.refund audit rows) for the order."""
    async with shop.ctx.sessionmaker() as session:
        emails = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == "order_refunded",
            OutboxMessage.dedupe_key == f"order_refunded:{order_id}"))
        audits = await session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "order.refund", AuditEntry.subject_id == order_id))
    return int(emails or 0), int(audits or 0)


async def _intent(shop: Shop, order_id: str) -> Payment:
    async with shop.ctx.sessionmaker() as session:
        payment = await session.scalar(select(Payment).where(Payment.order_id == order_id))
    assert payment is not None
    return payment


async def _sold(shop: Shop, tier: str) -> int:
    async with shop.ctx.sessionmaker() as session:
        tier_row = await session.get(TicketTier, shop.tier(tier))
    assert tier_row is not None
    return tier_row.sold


async def test_refund_is_recorded_once_and_the_door_answers_refunded(
    shop: Shop, localstripe_url: str
) -> None:
    fan = await shop.fan()
    order = await _paid_order(shop, fan, GA=2)
    ticket_ids = [ticket["id"] for ticket in order["tickets"]]
    codes = [await live_payload(shop.api, fan.account, ticket) for ticket in ticket_ids]
    scanner = await add_scanner(shop.api, shop.setup)
    sold_before = await _sold(shop, "GA")

    refunded = await _refund(shop, order["id"])
    assert refunded.status_code == 200, refunded.text
    body = refunded.json()
    assert body["state"] == "refunded" and body["refunded_now"] is True
    assert body["reason"] == "refunded by the venue: duplicate booking"
    assert {ticket["status"] for ticket in body["tickets"]} == {"refunded"}
    assert body["payment"] == {"status": "refunded", "refunded_cents": 10000}

    payment = await _intent(shop, order["id"])
    assert payment.stripe_refund_id
    landed = await refunds_of(localstripe_url, payment.stripe_payment_intent_id)
    assert [refund["amount"] for refund in landed] == [10000]
    assert await _counts(shop, order["id"]) == (1, 1)
    assert await _sold(shop, "GA") == sold_before  # the seats do not go back on sale

    for code in codes:  # codes shown before the refund: the door refuses them online
        scanned = await shop.api.post("/api/scan", headers=scanner.headers,
                                      json=scan_body(code))
        assert scanned.json()["result"] == "refunded", scanned.text
    bundle = await shop.api.get(f"/api/events/{shop.setup.event_id}/scanner-bundle",
                                headers=scanner.headers)
    assert set(ticket_ids) <= set(bundle.json()["revoked"])

    again = await _refund(shop, order["id"], reason="clicked twice")
    assert again.status_code == 200, again.text
    assert again.json()["refunded_now"] is False
    assert again.json()["reason"] == body["reason"]  # the first decision stands
    assert len(await refunds_of(localstripe_url, payment.stripe_payment_intent_id)) == 1
    assert await _counts(shop, order["id"]) == (1, 1)


async def test_ten_concurrent_refunds_make_one(shop: Shop, localstripe_url: str) -> None:
    fan = await shop.fan()
    order = await _paid_order(shop, fan, VIP=1)
    answers = await asyncio.gather(*(_refund(shop, order["id"]) for _ in range(10)))
    assert [answer.status_code for answer in answers] == [200] * 10, [a.text for a in answers]
    assert sum(answer.json()["refunded_now"] for answer in answers) == 1
    assert {answer.json()["state"] for answer in answers} == {"refunded"}
    payment = await _intent(shop, order["id"])
    assert len(await refunds_of(localstripe_url, payment.stripe_payment_intent_id)) == 1
    assert await _counts(shop, order["id"]) == (1, 1)


async def test_only_the_venue_refunds(shop: Shop) -> None:
    fan = await shop.fan()
    order = await _paid_order(shop, fan, GA=1)
    url = f"/api/orders/{order['id']}/refund"
    own = await shop.api.post(url, headers=fan.account.headers, json={"reason": "please"})
    assert own.status_code == 403, own.text
    assert own.headers["content-type"] == "application/problem+json"
    stranger = await shop.fan("stranger")
    other = await shop.api.post(url, headers=stranger.account.headers, json={"reason": "x"})
    assert other.status_code == 404, other.text
    other_venue = await create_drop_setup(shop.api)
    rival = await shop.api.post(url, headers=other_venue.admin.headers, json={"reason": "x"})
    assert rival.status_code == 404, rival.text
    anonymous = await shop.api.post(url, json={"reason": "x"})
    assert anonymous.status_code == 401, anonymous.text
    still = await shop.api.get(f"/api/orders/{order['id']}", headers=fan.account.headers)
    assert still.json()["state"] == "paid"
    assert {ticket["status"] for ticket in still.json()["tickets"]} == {"valid"}
    assert await _counts(shop, order["id"]) == (0, 0)


async def test_bad_refund_requests_are_4xx_and_change_nothing(shop: Shop) -> None:
    fan = await shop.fan()
    order = await _paid_order(shop, fan, GA=1)
    admin = shop.setup.admin.headers
    unknown = await shop.api.post("/api/orders/00000000-0000-4000-8000-000000000000/refund",
                                  headers=admin, json={"reason": "x"})
    assert unknown.status_code == 404, unknown.text
    not_a_uuid = await shop.api.post("/api/orders/12/refund", headers=admin, json={"reason": "x"})
    assert not_a_uuid.status_code == 404
    for body in [{}, {"reason": ""}, {"reason": "x" * 401}, {"reason": 7},
                 {"reason": "x", "amount": 5}]:
        answer = await shop.api.post(f"/api/orders/{order['id']}/refund", headers=admin,
                                     json=body)
        assert answer.status_code == 422, (body, answer.text)
    unlucky = await shop.fan("declined")
    unpaid = await shop.hold(unlucky, GA=1)
    assert unpaid.status_code == 201, unpaid.text
    declined = await shop.pay(unlucky, unpaid.json()["hold_id"],
                              card="pm_card_chargeCustomerFail")
    # A declined card keeps the order pending (the fan may try another card): not paid,
    # so there is nothing to refund.
    assert declined.json()["status"] == "requires_payment_method", declined.text
    unpaid_refund = await _refund(shop, declined.json()["order_id"])
    assert unpaid_refund.status_code == 409, unpaid_refund.text
    assert (await _intent(shop, order["id"])).status == "succeeded"
    assert await _counts(shop, order["id"]) == (0, 0)


async def test_stripe_down_the_order_is_refunded_and_the_worker_pays_it_back(
    shop: Shop, localstripe_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A platform admin refunds while Stripe is unreachable: the decision stands, the
    refund stays due, and the worker's pass (payment_reconciler) carries it out once."""
    fan = await shop.fan()
    order = await _paid_order(shop, fan, GA=1)
    platform = await sign_up(shop.api, "platform")
    async with shop.ctx.sessionmaker() as session, session.begin():
        await session.execute(update(User).where(User.id == platform.id).values(role="admin"))

    async def unreachable(*args: object, **kwargs: object) -> object:
        raise Busy("stripe is down", 5)

    monkeypatch.setattr(shop.ctx.payments, "refund", unreachable)
    answer = await shop.api.post(f"/api/orders/{order['id']}/refund", headers=platform.headers,
                                 json={"reason": "chargeback risk"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "refunded" and answer.json()["refunded_now"] is True
    assert answer.json()["payment"]["status"] == "succeeded"  # not yet paid back
    payment = await _intent(shop, order["id"])
    assert payment.refund_due_at is not None and payment.stripe_refund_id is None
    assert await refunds_of(localstripe_url, payment.stripe_payment_intent_id) == []

    monkeypatch.undo()
    later = shop.clock() + refunds.CLAIM_TTL + refunds.CLAIM_TTL
    assert await refunds.execute_open_refunds(shop.ctx, now=later) >= 1
    assert len(await refunds_of(localstripe_url, payment.stripe_payment_intent_id)) == 1
    assert (await _intent(shop, order["id"])).status == "refunded"
    assert await _counts(shop, order["id"]) == (1, 1)

"""Deleting an account with paid tickets (bootstrap/account_data.py): future events'
orders are refunded at (local)Stripe or kept valid, as the fan chooses; past events'
orders stay as they were; the ledger keeps every order, ticket and payment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from core.models import Event, Order, Payment, Ticket, User
from mail.models import OutboxMessage
from tests.purchase.conftest import Fan, Shop
from tests.purchase.stripe_helpers import refunds_of


async def _paid_order_id(shop: Shop, fan: Fan, quantity: int = 2) -> str:
    hold = await shop.hold(fan, GA=quantity)
    assert hold.status_code == 201, hold.text
    paid = await shop.pay(fan, hold.json()["hold_id"])
    assert paid.json()["status"] == "paid", paid.text
    return str(paid.json()["order_id"])


async def _ledger(shop: Shop) -> tuple[int, int, int, int]:
    """(orders, tickets, payments, sum of payment amounts) of the whole database."""
    async with shop.ctx.sessionmaker() as session:
        orders = await session.scalar(select(func.count()).select_from(Order))
        tickets = await session.scalar(select(func.count()).select_from(Ticket))
        payments = await session.scalar(select(func.count()).select_from(Payment))
        amounts = await session.scalar(select(func.coalesce(func.sum(Payment.amount_cents), 0)))
    return int(orders or 0), int(tickets or 0), int(payments or 0), int(amounts or 0)


async def _delete(shop: Shop, fan: Fan, choice: str):
    return await shop.api.request("DELETE", "/api/me", headers=fan.account.headers, json={
        "password": fan.account.password, "future_tickets": choice})


async def test_refund_refunds_future_orders_once_and_the_ledger_keeps_them(
        shop: Shop, localstripe_url: str) -> None:
    fan = await shop.fan()
    order_id = await _paid_order_id(shop, fan)
    before = await _ledger(shop)
    deleted = await _delete(shop, fan, "refund")
    assert deleted.status_code == 202, deleted.text
    assert deleted.json()["refunded_orders"] == [order_id]
    assert await _ledger(shop) == before
    async with shop.ctx.sessionmaker() as session:
        order = await session.get(Order, order_id)
        payment = await session.scalar(select(Payment).where(Payment.order_id == order_id))
        statuses = set(await session.scalars(select(Ticket.status).where(
            Ticket.order_id == order_id)))
        owner = await session.get(User, fan.account.id)
    assert order is not None and order.state == "refunded" and order.user_id == fan.account.id
    assert statuses == {"refunded"}
    assert payment is not None and payment.status == "refunded"
    assert payment.refunded_cents == payment.amount_cents == 10000
    assert len(await refunds_of(localstripe_url, payment.stripe_payment_intent_id)) == 1
    assert owner is not None and owner.name == "" and owner.email.endswith("@deleted.invalid")


async def test_keep_leaves_future_tickets_valid_and_past_orders_are_never_refunded(
        shop: Shop) -> None:
    fan = await shop.fan()
    order_id = await _paid_order_id(shop, fan)
    before = await _ledger(shop)
    deleted = await _delete(shop, fan, "keep")
    assert deleted.status_code == 202, deleted.text
    assert deleted.json() == {"deleted": True, "refunded_orders": [], "kept_orders": [order_id]}
    assert await _ledger(shop) == before
    async with shop.ctx.sessionmaker() as session:
        order = await session.get(Order, order_id)
        statuses = set(await session.scalars(select(Ticket.status).where(
            Ticket.order_id == order_id)))
    assert order is not None and order.state == "paid" and statuses == {"valid"}
    # The venue refunds the kept order later: done, and no mail to the deleted address.
    refunded = await shop.api.post(f"/api/orders/{order_id}/refund",
                                   headers=shop.setup.admin.headers, json={"reason": "later"})
    assert refunded.status_code == 200, refunded.text
    async with shop.ctx.sessionmaker() as session:
        notices = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"order_refunded:{order_id}"))
    assert notices == 0

    # An event that has already happened: "refund" leaves its orders alone.
    other = await shop.fan("past")
    past_order = await _paid_order_id(shop, other, quantity=1)
    async with shop.ctx.sessionmaker() as session:
        event = await session.get(Event, shop.setup.event_id)
        assert event is not None
        ago = shop.clock() - timedelta(days=2)
        await session.execute(update(Event).where(Event.id == event.id).values(
            starts_at=ago, ends_at=ago + timedelta(hours=3)))
        await session.commit()
    deleted = await _delete(shop, other, "refund")
    assert deleted.status_code == 202, deleted.text
    assert deleted.json() == {"deleted": True, "refunded_orders": [], "kept_orders": []}
    async with shop.ctx.sessionmaker() as session:
        order = await session.get(Order, past_order)
    assert order is not None and order.state == "paid"

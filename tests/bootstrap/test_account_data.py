"""bootstrap/account_data.py on the real database: the export carries the person's
payments without their secrets, and a refused deletion (handover) changes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bootstrap.account_data import MustHandOver, anonymise, export_account
from core.models import Order, Payment, User
from purchase.ledger import issue_tickets
from tests.support.api import create_drop_setup, sign_up


async def test_the_export_carries_orders_tickets_and_payments_but_no_payment_secrets(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    fan = await sign_up(client)
    setup = await create_drop_setup(client)
    intent, secret = f"pi_{uuid.uuid4().hex}", f"pi_secret_{uuid.uuid4().hex}"
    async with sessionmaker() as session:
        order = Order(id=str(uuid.uuid4()), user_id=fan.id, event_id=setup.event_id,
                      drop_id=setup.drop_id, items=[{"tier_id": setup.tier_ids["GA"],
                                                     "name": "GA", "quantity": 1,
                                                     "unit_price_cents": 5000}],
                      total_cents=5000, currency="EUR", state="paid")
        session.add(order)
        await session.flush()
        await issue_tickets(session, order)
        session.add(Payment(order_id=order.id, stripe_payment_intent_id=intent,
                            client_secret=secret, amount_cents=5000, currency="EUR",
                            status="succeeded"))
        await session.commit()
        data = await export_account(session, fan.id, now=datetime.now(UTC))
    assert [o["id"] for o in data["orders"]] == [order.id]
    assert [t["order_id"] for t in data["tickets"]] == [order.id]
    [payment] = data["payments"]
    assert (payment["amount_cents"], payment["status"]) == (5000, "succeeded")
    text = json.dumps(data)
    assert secret not in text and intent not in text


async def test_a_refused_deletion_changes_nothing(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    operator = await sign_up(client, "operator")
    async with sessionmaker() as session:
        await session.execute(update(User).where(User.id == operator.id).values(role="admin"))
        await session.commit()
    async with sessionmaker() as session:
        with pytest.raises(MustHandOver):
            async with session.begin():
                await anonymise(session, operator.id, future_tickets="refund",
                                now=datetime.now(UTC))
    async with sessionmaker() as session:
        user = await session.get(User, operator.id)
    assert user is not None and user.email == operator.email and user.name == "Operator"

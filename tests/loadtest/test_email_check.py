"""The rehearsal's email count: outbox rows per cause against the ledger, in real Postgres."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Order
from loadtest.email_check import check, read_outbox
from mail import causes
from mail.models import OutboxMessage
from tests.support.api import DropSetup, create_drop_setup, sign_up


async def _order(session: AsyncSession, setup: DropSetup, fan_id: int, state: str, *,
                 email: bool = True) -> Order:
    order = Order(id=str(uuid.uuid4()), user_id=fan_id, event_id=setup.event_id,
                  drop_id=setup.drop_id, items=[], total_cents=5000, currency="EUR", state=state,
                  paid_at=datetime.now(UTC))
    session.add(order)
    await session.flush()
    if email:
        await causes.order_paid(session, order)
        if state == "refunded":
            await causes.order_refunded(session, order, "storm")
    return order


async def test_each_cause_has_one_row_and_a_missing_one_is_named(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], database_url: str
) -> None:
    setup, other = await create_drop_setup(client), await create_drop_setup(client)
    fan = await sign_up(client)
    async with sessionmaker() as session, session.begin():
        paid = await _order(session, setup, fan.id, "paid")
        await _order(session, setup, fan.id, "refunded")
        await _order(session, other, fan.id, "refunded")  # another drop: not counted
    async with sessionmaker() as session, session.begin():
        await session.execute(update(OutboxMessage).values(sent_at=datetime.now(UTC))
                              .where(OutboxMessage.dedupe_key == f"order_confirmation:{paid.id}"))

    kinds, facts = read_outbox(database_url, drop_id=setup.drop_id)
    assert kinds == {"order_confirmation": {"rows": 2, "sent": 1, "unsent": 1},
                     "order_refunded": {"rows": 1, "sent": 0, "unsent": 1}}
    assert facts["paid_orders"] == 2 and facts["refunded_orders"] == 1
    result = check(kinds, facts, smtp_configured=False)
    assert result["ok"] is True and result["sent"] == 1 and result["unsent"] == 2

    async with sessionmaker() as session, session.begin():
        await _order(session, setup, fan.id, "refunded", email=False)  # a cause without mail
    result = check(*read_outbox(database_url, drop_id=setup.drop_id), smtp_configured=False)
    assert result["ok"] is False
    assert result["mismatches"] == ["order_confirmation", "order_refunded"]
    refunds = next(c for c in result["checks"] if c["email"] == "order_refunded")
    assert (refunds["rows"], refunds["expected"]) == (1, 2)


def test_lottery_results_count_won_and_not_won_together() -> None:
    kinds = {"lottery_won": {"rows": 2, "sent": 0, "unsent": 2},
             "lottery_not_won": {"rows": 3, "sent": 0, "unsent": 3},
             "lottery_entry_received": {"rows": 5, "sent": 0, "unsent": 5}}
    facts = {"paid_orders": 0, "refunded_orders": 0, "lottery_entries_entered": 5,
             "lottery_entries_settled": 5}
    assert check(kinds, facts, smtp_configured=True)["ok"] is True
    facts["lottery_entries_settled"] = 6
    assert check(kinds, facts, smtp_configured=True)["mismatches"] == ["lottery_result"]

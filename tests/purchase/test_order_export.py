"""purchase.order_export: every order of the event, in batches, and none of another event's."""

from __future__ import annotations

import pytest

from core.models import Event
from purchase import order_export
from tests.purchase.conftest import Shop
from tests.support.api import create_drop_setup


async def _order(shop: Shop) -> str:
    fan = await shop.fan()
    hold = await shop.hold(fan, GA=1)
    paid = await shop.pay(fan, hold.json()["hold_id"])
    assert paid.json()["status"] == "paid", paid.text
    return str(paid.json()["order_id"])


async def test_rows_come_in_batches_oldest_first(shop: Shop,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    bought = [await _order(shop) for _ in range(3)]
    other = await create_drop_setup(shop.api)  # another event's orders stay out
    monkeypatch.setattr(order_export, "BATCH", 2)
    async with shop.ctx.sessionmaker() as session:
        event = await session.get(Event, shop.setup.event_id)
    assert event is not None and other.event_id != event.id
    batches = [batch async for batch in order_export.order_rows(shop.ctx.sessionmaker, event)]
    assert [len(batch) for batch in batches] == [2, 1]
    rows = [row for batch in batches for row in batch]
    assert [row[0] for row in rows] == bought
    assert all(len(row) == len(order_export.HEADER) for row in rows)

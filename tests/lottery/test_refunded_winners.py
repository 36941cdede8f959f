"""A winner's order refunded afterwards (by the venue, or by cancelling the event) leaves
the entry's money `refunded`: in the fan's entries, the venue's progress figures and the
table itself, exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from bootstrap.migrate import downgrade, upgrade
from gateway.context import app_services
from lottery.jobs import settle_lottery
from lottery.models import LotteryEntry
from lottery.payments import HeldPayments
from lottery.settlement import SettleOptions
from purchase import cancellation
from tests.lottery.conftest import Lottery, enter_many, make_lottery, seal_and_draw
from tests.support.api import Account, sign_up


async def _settled_lottery(api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession],
                           payments: HeldPayments) -> tuple[Lottery, Account]:
    """Three one-seat entries (one by a signed-up fan) for five seats: every entry wins."""
    lottery = await make_lottery(api, capacity=5, max_quantity=1)
    fan = await sign_up(api, "winner")
    entered = await api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers,
                             json={"tier_id": lottery.ga, "quantity": 1,
                                   "payment_method": "pm_card_visa"})
    assert entered.status_code == 201, entered.text
    await enter_many(db, payments, lottery, [1, 1])
    moment = await seal_and_draw(db, lottery.drop_id)
    assert await settle_lottery(db, payments, lottery.drop_id, SettleOptions(worker_id="w"),
                                lambda: moment)
    return lottery, fan


async def _my_entry(api: httpx.AsyncClient, fan: Account) -> dict[str, object]:
    response = await api.get("/api/me/entries", headers=fan.headers)
    assert response.status_code == 200
    entries: list[dict[str, object]] = response.json()["entries"]
    assert len(entries) == 1
    return entries[0]


async def _money_figures(api: httpx.AsyncClient, lottery: Lottery) -> dict[str, int]:
    response = await api.get(f"/api/drops/{lottery.drop_id}/lottery/progress",
                             headers=lottery.setup.admin.headers)
    assert response.status_code == 200
    money: dict[str, int] = response.json()["settlement"]["money"]
    return money


async def _stored(db: async_sessionmaker[AsyncSession], drop_id: int) -> dict[str, tuple[str, str]]:
    async with db() as session:
        rows = await session.execute(select(LotteryEntry.id, LotteryEntry.money,
                                            LotteryEntry.updated_at)
                                     .where(LotteryEntry.drop_id == drop_id))
        return {row.id: (row.money, row.updated_at.isoformat()) for row in rows}


async def test_a_winner_refunded_by_the_venue_reads_refunded_once(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
) -> None:
    lottery, fan = await _settled_lottery(api, db, payments)
    won = await _my_entry(api, fan)
    assert won["status"] == "won" and won["money"] == "captured"
    assert await _money_figures(api, lottery) == {
        "authorised": 0, "captured": 3, "released": 0, "refunded": 0, "failed": 0}

    url = f"/api/orders/{won['order_id']}/refund"
    refunded = await api.post(url, headers=lottery.setup.admin.headers,
                              json={"reason": "duplicate booking"})
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["state"] == "refunded"

    mine = await _my_entry(api, fan)
    assert mine["status"] == "won" and mine["money"] == "refunded"
    assert mine["order_id"] == won["order_id"]
    assert "refunded by the venue: duplicate booking" in str(mine["money_note"])
    assert await _money_figures(api, lottery) == {
        "authorised": 0, "captured": 2, "released": 0, "refunded": 1, "failed": 0}

    # Pressing the button again changes nothing, not even the entry's updated_at.
    before = await _stored(db, lottery.drop_id)
    again = await api.post(url, headers=lottery.setup.admin.headers, json={"reason": "again"})
    assert again.status_code == 200, again.text
    assert await _stored(db, lottery.drop_id) == before
    assert await _my_entry(api, fan) == mine
    assert (await _money_figures(api, lottery))["refunded"] == 1


async def test_a_cancelled_events_lottery_orders_read_refunded(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    lottery_app: Starlette,
) -> None:
    lottery, fan = await _settled_lottery(api, db, payments)
    event_id = lottery.setup.event_id
    cancelled = await api.post(f"/api/events/{event_id}/cancel",
                               headers=lottery.setup.admin.headers, json={"reason": "storm"})
    assert cancelled.status_code == 202, cancelled.text
    assert cancelled.json()["paid_orders_left"] == 3
    ctx = app_services(lottery_app).purchase
    now = datetime.now(UTC)
    assert await cancellation.refund_batch(ctx, event_id=event_id, now=now) == 3

    mine = await _my_entry(api, fan)
    assert mine["status"] == "won" and mine["money"] == "refunded"
    assert await _money_figures(api, lottery) == {
        "authorised": 0, "captured": 0, "released": 0, "refunded": 3, "failed": 0}
    stored = await _stored(db, lottery.drop_id)
    assert {money for money, _ in stored.values()} == {"refunded"}

    # Another pass of the refunder finds nothing left and changes nothing.
    assert await cancellation.refund_batch(ctx, event_id=event_id, now=now) == 0
    assert await _stored(db, lottery.drop_id) == stored


async def test_a_winner_who_deletes_the_account_with_a_refund_reads_refunded(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
) -> None:
    lottery, fan = await _settled_lottery(api, db, payments)
    won = await _my_entry(api, fan)
    deleted = await api.request("DELETE", "/api/me", headers=fan.headers, json={
        "password": fan.password, "future_tickets": "refund"})
    assert deleted.status_code == 202, deleted.text
    assert deleted.json()["refunded_orders"] == [won["order_id"]]
    assert (await _stored(db, lottery.drop_id))[str(won["id"])][0] == "refunded"
    assert await _money_figures(api, lottery) == {
        "authorised": 0, "captured": 2, "released": 0, "refunded": 1, "failed": 0}


async def test_the_migration_brings_entries_refunded_before_it_up_to_date(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    database_url: str,
) -> None:
    lottery, fan = await _settled_lottery(api, db, payments)
    won = await _my_entry(api, fan)
    await asyncio.to_thread(downgrade, database_url, "lottery_0002")
    try:  # without lottery_0003 the refund leaves the entry 'captured': the old bug
        refunded = await api.post(f"/api/orders/{won['order_id']}/refund",
                                  headers=lottery.setup.admin.headers, json={"reason": "fraud"})
        assert refunded.status_code == 200, refunded.text
        assert (await _my_entry(api, fan))["money"] == "captured"
    finally:
        await asyncio.to_thread(upgrade, database_url)
    mine = await _my_entry(api, fan)
    assert mine["money"] == "refunded"
    assert "refunded by the venue: fraud" in str(mine["money_note"])
    assert (await _money_figures(api, lottery))["captured"] == 2

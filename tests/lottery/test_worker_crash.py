"""A real worker process killed half-way through settlement, then restarted."""

from __future__ import annotations

import signal
from collections.abc import Awaitable

import httpx
import pytest
import stripe
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lottery.models import LotteryDrop, LotteryEntry
from lottery.payments import HeldPayments
from tests.lottery.conftest import (
    STRIPE_KEY,
    enter_many,
    make_lottery,
    seal_and_draw,
    settle_only,
)
from tests.lottery.test_settlement import assert_settled_exactly_once
from tests.support import services as test_services
from tests.support.processes import service_env, worker_process
from tests.support.waiting import eventually

ENTRIES = 240


async def settled(db: async_sessionmaker[AsyncSession], drop_id: int) -> int:
    async with db() as session:
        count = await session.scalar(select(func.count()).select_from(LotteryEntry).where(
            LotteryEntry.drop_id == drop_id, LotteryEntry.settlement == "done"))
        return int(count or 0)


async def _at_least(count: Awaitable[int], wanted: int) -> bool:
    return await count >= wanted


async def lottery_state(db: async_sessionmaker[AsyncSession], drop_id: int) -> str:
    async with db() as session:
        lottery = await session.get(LotteryDrop, drop_id)
        assert lottery is not None
        return lottery.state


@pytest.mark.slow
async def test_settlement_killed_half_way_and_restarted_settles_each_entry_once(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    stripe_client: stripe.StripeClient, services: test_services.TestServices, localstripe_url: str,
) -> None:
    lottery = await make_lottery(api, capacity=150, max_quantity=2)
    await enter_many(db, payments, lottery, [1, 2] * (ENTRIES // 2), concurrency=16)
    await seal_and_draw(db, lottery.drop_id)
    await settle_only(db, lottery.drop_id)
    env = service_env(services.redis_url, services.database_url, STRIPE_API_KEY=STRIPE_KEY,
                      STRIPE_API_BASE=localstripe_url, TICKETQ_LOTTERY_SETTLE_CONCURRENCY="2",
                      TICKETQ_LOTTERY_CLAIM_SECONDS="3")
    logs = services.folder / "logs"

    with worker_process(env, logs, "lottery-worker-1", only=("lottery",)) as first:
        await eventually(lambda: _at_least(settled(db, lottery.drop_id), 20), interval_s=0.01,
                         message="20 entries settled by the first worker")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
    at_kill = await settled(db, lottery.drop_id)
    assert 20 <= at_kill < ENTRIES, first.log()
    async with db() as session:
        claimed = await session.scalar(select(func.count()).select_from(LotteryEntry).where(
            LotteryEntry.drop_id == lottery.drop_id, LotteryEntry.settlement == "working"))
    assert claimed, "the kill should leave claimed, unfinished entries behind"

    with worker_process(env, logs, "lottery-worker-2", only=("lottery",)) as second:
        async def all_settled() -> bool:
            return await lottery_state(db, lottery.drop_id) == "settled"

        await eventually(all_settled, timeout_s=60,
                         message=f"the restarted worker to settle the lottery\n{second.log()}")
    winners, losers = await assert_settled_exactly_once(db, stripe_client, lottery.drop_id,
                                                        lottery.ga)
    assert winners + losers == ENTRIES and winners >= 75

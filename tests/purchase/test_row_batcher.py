"""Hold mirror rows written many per commit: still durable before "held", still rebuildable."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from core.models import Hold
from purchase.reconcile import reconcile_drop
from purchase.row_batcher import RowBatcher
from tests.purchase.conftest import Shop
from tests.support.owned_keys import forget_drops


def _row(shop: Shop, user_id: int) -> dict[str, object]:
    return {"id": str(uuid.uuid4()), "drop_id": shop.drop_id, "event_id": shop.setup.event_id,
            "user_id": user_id, "items": [{"tier_id": shop.tier("GA"), "quantity": 1}],
            "total_cents": 5000, "currency": "EUR",
            "expires_at": shop.clock() + timedelta(minutes=5), "state": "active"}


async def _mirrored(shop: Shop, ids: list[str]) -> int:
    async with shop.ctx.sessionmaker() as session:
        return int(await session.scalar(
            select(func.count()).select_from(Hold).where(Hold.id.in_(ids))) or 0)


async def test_rows_written_together_share_one_commit(shop: Shop) -> None:
    fan = await shop.fan()
    batcher = RowBatcher(shop.ctx.sessionmaker, insert(Hold))
    rows = [_row(shop, fan.account.id) for _ in range(6)]
    await asyncio.gather(*(batcher.write(row) for row in rows))
    assert (batcher.batches, batcher.rows) == (1, 6)
    assert await _mirrored(shop, [str(row["id"]) for row in rows]) == 6


async def test_a_bad_row_refuses_only_its_own_writer(shop: Shop) -> None:
    fan = await shop.fan()
    batcher = RowBatcher(shop.ctx.sessionmaker, insert(Hold))
    good = [_row(shop, fan.account.id) for _ in range(3)]
    bad = _row(shop, -1)  # no such user: the foreign key refuses it
    answers = await asyncio.gather(*(batcher.write(row) for row in [*good, bad]),
                                   return_exceptions=True)
    assert answers[:3] == [None, None, None]
    assert isinstance(answers[3], IntegrityError)
    assert await _mirrored(shop, [str(row["id"]) for row in [*good, bad]]) == 3


async def test_redis_loss_right_after_a_batch_of_holds_rebuilds_every_hold(shop: Shop) -> None:
    fans = [await shop.fan() for _ in range(6)]
    answers = await asyncio.gather(*(shop.hold(fan, GA=2) for fan in fans))
    assert [answer.status_code for answer in answers] == [201] * 6
    held = [answer.json()["hold_id"] for answer in answers]
    assert await shop.stock() == {shop.tier("GA"): 8, shop.tier("VIP"): 4}
    # Redis loses the drop the moment the last fan heard "held".
    assert await forget_drops(shop.ctx.scripts.client, [shop.drop_id]) > 0

    report = await reconcile_drop(shop.ctx, shop.drop_id, now=shop.clock())
    assert report.restored_holds == 6
    assert await shop.stock() == {shop.tier("GA"): 8, shop.tier("VIP"): 4}
    # Rebuilt holds are still their fans' and can be paid; nobody else gets those seats.
    assert (await shop.pay(fans[0], held[0])).json()["status"] == "paid"
    late = await shop.fan()
    assert (await shop.hold(late, GA=4)).status_code == 201
    assert (await shop.hold(await shop.fan(), GA=4)).status_code == 201
    assert (await shop.hold(await shop.fan(), GA=1)).status_code == 409


@pytest.mark.parametrize("flushers", [1, 2])
async def test_a_lone_writer_is_flushed_at_once(shop: Shop, flushers: int) -> None:
    fan = await shop.fan()
    batcher = RowBatcher(shop.ctx.sessionmaker, insert(Hold), flushers=flushers)
    rows = [_row(shop, fan.account.id) for _ in range(3)]
    for row in rows:
        await batcher.write(row)  # nothing else waits: each is its own commit
    assert (batcher.batches, batcher.rows) == (3, 3)
    assert await _mirrored(shop, [str(row["id"]) for row in rows]) == 3

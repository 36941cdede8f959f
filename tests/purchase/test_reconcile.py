"""Redis loses all mid-drop; reconciliation rebuilds stock from the ledger: no double sale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from core.models import Ticket, TicketTier
from purchase.reconcile import reconcile_drop
from tests.purchase.conftest import Shop
from tests.support.owned_keys import forget_drops

ROOT = Path(__file__).resolve().parents[2]


async def test_redis_losing_the_drop_then_reconcile_restores_stock_without_double_sale(
    shop: Shop,
) -> None:
    buyer, holder = await shop.fan(), await shop.fan()
    paid = await shop.pay(buyer, (await shop.hold(buyer, GA=3)).json()["hold_id"])
    assert paid.json()["status"] == "paid"
    held = (await shop.hold(holder, GA=2, VIP=1)).json()["hold_id"]
    # Redis "loses everything" of this drop; a FLUSHALL would also wipe keys that other
    # tests and, on a borrowed Redis, other programs own.
    assert await forget_drops(shop.ctx.scripts.client, [shop.drop_id]) > 0
    assert await shop.stock() == {}

    report = await reconcile_drop(shop.ctx, shop.drop_id, now=shop.clock())
    assert report.restored_holds == 1
    assert await shop.stock() == {shop.tier("GA"): 15, shop.tier("VIP"): 3}
    assert report.tiers[shop.tier("GA")] == (None, 15, 2)
    # The restored hold is still the holder's; the buyer's limit still counts their order.
    assert (await shop.pay(holder, held)).json()["status"] == "paid"
    buyer = await shop.admit(buyer.account)
    assert (await shop.hold(buyer, GA=2)).status_code == 409
    sold = 5
    while True:
        fan = await shop.fan()
        answer = await shop.hold(fan, GA=4)
        if answer.status_code != 201:
            break
        assert (await shop.pay(fan, answer.json()["hold_id"])).json()["status"] == "paid"
        sold += 4
    assert sold == 17  # 15 left after the flush: three more fans of 4, then 3 remain
    async with shop.ctx.sessionmaker() as session:
        tickets = await session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.tier_id == shop.tier("GA")))
        tier = await session.get(TicketTier, shop.tier("GA"))
    assert tier is not None and tickets == tier.sold == 17
    assert await shop.stock() == {shop.tier("GA"): 3, shop.tier("VIP"): 3}
    again = await reconcile_drop(shop.ctx, shop.drop_id, now=shop.clock())
    assert again.differences == {}


async def test_reconcile_command_reports_corrections(shop: Shop) -> None:
    fan = await shop.fan()
    await shop.hold(fan, GA=1)
    await shop.ctx.scripts.client.hset(f"tq:{{ev:{shop.drop_id}}}:stock", str(shop.tier("VIP")), 99)
    env = {**os.environ, "REDIS_URL": shop.ctx.settings.redis_url or "",
           "DATABASE_URL": shop.ctx.settings.database_url or "", "TICKETQ_ENV": "test"}
    done = subprocess.run([str(Path(sys.executable).parent / "ticketq"), "reconcile",
                           str(shop.drop_id)], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"tier {shop.tier('VIP')}: stock 99 -> 4, held 0  (corrected)" in done.stdout
    assert f"tier {shop.tier('GA')}: stock 19 -> 19, held 1" in done.stdout
    assert await shop.stock() == {shop.tier("GA"): 19, shop.tier("VIP"): 4}

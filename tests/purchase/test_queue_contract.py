"""The contracts with the waiting room, through its real admission: the pass it issues opens
purchase, a paid order frees the fan's slot, and a sold-out drop stops taking joins."""

from __future__ import annotations

from queue_engine.passes import admit_batch
from tests.purchase.conftest import Fan, Shop
from tests.support.api import sign_up
from ticketq.clock import to_ms
from ticketq.redis_keys import DropKeys


async def _admitted(shop: Shop) -> Fan:
    account = await sign_up(shop.api, "queued")
    joined = await shop.api.post(f"/api/drops/{shop.drop_id}/queue", headers=account.headers)
    assert joined.status_code == 201, joined.text
    # The admission bucket fills with time (admit_per_minute): step the queue's clock on.
    start = to_ms(shop.clock())
    for step in range(1, 20):
        if (await admit_batch(shop.ctx.scripts, shop.drop_id, now_ms=start + step * 200)).admitted:
            break
    status = await shop.api.get(f"/api/drops/{shop.drop_id}/queue", headers=account.headers)
    assert status.json().get("pass"), status.text
    return Fan(account, status.json()["pass"])


async def test_a_queue_pass_buys_and_the_paid_fan_frees_the_slot(shop: Shop) -> None:
    fan = await _admitted(shop)
    keys = DropKeys(shop.drop_id)
    assert await shop.ctx.scripts.client.zscore(keys.active, str(fan.account.id)) is not None
    hold_id = (await shop.hold(fan, VIP=2)).json()["hold_id"]
    assert (await shop.pay(fan, hold_id)).json()["status"] == "paid"
    assert await shop.ctx.scripts.client.zscore(keys.active, str(fan.account.id)) is None
    # The completed pass no longer holds anything.
    assert (await shop.hold(fan, GA=1)).status_code == 410


async def test_sold_out_stops_joins_until_stock_returns(shop: Shop) -> None:
    fan = await _admitted(shop)
    hold_id = (await shop.hold(fan, GA=4, VIP=2)).json()["hold_id"]
    other = await _admitted(shop)
    rest = (await shop.hold(other, GA=4, VIP=2)).json()["hold_id"]
    for _ in range(3):
        extra = await _admitted(shop)
        assert (await shop.hold(extra, GA=4)).status_code == 201
    assert await shop.stock() == {shop.tier("GA"): 0, shop.tier("VIP"): 0}
    late = await sign_up(shop.api, "late")
    refused = await shop.api.post(f"/api/drops/{shop.drop_id}/queue", headers=late.headers)
    assert refused.status_code == 409, refused.text
    await shop.api.delete(f"/api/holds/{rest}", headers=other.account.headers)
    joined = await shop.api.post(f"/api/drops/{shop.drop_id}/queue", headers=late.headers)
    assert joined.status_code == 201, joined.text
    assert (await shop.pay(fan, hold_id)).json()["status"] == "paid"

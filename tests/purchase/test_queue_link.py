"""The contracts with the waiting room, through its real admission: the pass it issues opens
purchase, a paid order frees the fan's slot, carts holding every seat pause admission, and a
sold-out drop stops taking joins."""

from __future__ import annotations

from core.clock import to_ms
from core.redis_keys import DropKeys
from queue_engine.passes import admit_batch
from tests.purchase.conftest import Fan, Shop
from tests.support.api import sign_up


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


async def test_carts_holding_every_seat_keep_the_line_and_paying_them_sells_out(
        shop: Shop) -> None:
    queue = f"/api/drops/{shop.drop_id}/queue"
    fan = await _admitted(shop)
    holds = {fan.account.id: (fan, (await shop.hold(fan, GA=4, VIP=2)).json()["hold_id"])}
    other = await _admitted(shop)
    rest = (await shop.hold(other, GA=4, VIP=2)).json()["hold_id"]
    for _ in range(3):
        extra = await _admitted(shop)
        held = await shop.hold(extra, GA=4)
        assert held.status_code == 201, held.text
        holds[extra.account.id] = (extra, held.json()["hold_id"])
    assert await shop.stock() == {shop.tier("GA"): 0, shop.tier("VIP"): 0}
    # Every seat is in a cart, and carts expire: the line keeps fans, tells them why it
    # stands still, and admits nobody while there is nothing to buy.
    shop.clock.advance(1)  # past the hub's cached snapshot
    late = await sign_up(shop.api, "late")
    joined = await shop.api.post(queue, headers=late.headers)
    assert joined.status_code == 201, joined.text
    assert joined.json()["state"] == "waiting" and joined.json()["tickets_in_carts"] is True
    assert joined.json()["estimated_wait_s"] is None
    admitting = await admit_batch(shop.ctx.scripts, shop.drop_id, now_ms=to_ms(shop.clock()))
    assert (admitting.admitted, admitting.reason) == (0, "all_held")
    # A released cart brings its seats back.
    await shop.api.delete(f"/api/holds/{rest}", headers=other.account.headers)
    shop.clock.advance(1)
    assert (await shop.api.get(queue, headers=late.headers)).json()["tickets_in_carts"] is False
    # Once every seat is paid for, nothing can come back: sold out, and the line closes.
    holds[other.account.id] = (other, (await shop.hold(other, GA=4, VIP=2)).json()["hold_id"])
    for buyer, hold_id in holds.values():
        assert (await shop.pay(buyer, hold_id)).json()["status"] == "paid"
    shop.clock.advance(1)
    assert (await shop.api.get(queue, headers=late.headers)).json()["state"] == "sold_out"
    refused = await shop.api.post(queue, headers=(await sign_up(shop.api, "later")).headers)
    assert refused.status_code == 409, refused.text

"""GET /api/events/{id}/orders: the venue's paged list of an event's orders."""

from __future__ import annotations

from tests.purchase.conftest import Shop


async def _buy(shop: Shop) -> str:
    fan = await shop.fan()
    hold = await shop.hold(fan, GA=1)
    paid = await shop.pay(fan, hold.json()["hold_id"])
    assert paid.json()["status"] == "paid", paid.text
    return str(paid.json()["order_id"])


async def test_pages_newest_first(shop: Shop) -> None:
    bought = [await _buy(shop) for _ in range(3)]
    url = f"/api/events/{shop.setup.event_id}/orders"
    first = await shop.api.get(url, params={"limit": 2}, headers=shop.setup.admin.headers)
    assert first.status_code == 200, first.text
    assert first.json()["total"] == 3 and first.json()["limit"] == 2
    second = await shop.api.get(url, params={"limit": 2, "offset": 2},
                                headers=shop.setup.admin.headers)
    listed = [order["id"] for order in first.json()["orders"] + second.json()["orders"]]
    assert listed == list(reversed(bought))
    assert all(order["tickets"] for order in first.json()["orders"])


async def test_fans_and_bad_pages_are_refused(shop: Shop) -> None:
    await _buy(shop)
    url = f"/api/events/{shop.setup.event_id}/orders"
    fan = await shop.fan()
    assert (await shop.api.get(url, headers=fan.account.headers)).status_code == 403
    assert (await shop.api.get(url)).status_code == 401
    for params in [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"offset": "-1"},
                   {"offset": "1e3"}]:
        answer = await shop.api.get(url, params=params, headers=shop.setup.admin.headers)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    missing = await shop.api.get("/api/events/999999999/orders",
                                 headers=shop.setup.admin.headers)
    assert missing.status_code == 404
    huge = await shop.api.get("/api/events/99999999999999999999999/orders",
                              headers=shop.setup.admin.headers)
    assert huge.status_code == 404

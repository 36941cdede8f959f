"""The hold and stock scripts, run unchanged against single Redis and a 3-master Cluster."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator

import pytest

from core.redis_client import RedisClient
from core.redis_keys import DropKeys
from core.scripts import ScriptRegistry, load_sources
from purchase import inventory
from purchase.inventory import HoldItem, LedgerView
from tests.purchase.passes import grant_pass
from tests.support.owned_keys import forget_drops

NOW = 1_800_000_000_000
SECRET = "inventory-test-secret"
_drop_ids = itertools.count(900_000 + uuid.uuid4().int % 10_000 * 10)


@pytest.fixture
async def drop(any_redis: RedisClient) -> AsyncIterator[tuple[ScriptRegistry, DropKeys]]:
    keys = DropKeys(next(_drop_ids))
    scripts = ScriptRegistry(any_redis)
    ledger = LedgerView(room={1: 10, 2: 2}, bought={}, ticketed=[], holds={})
    await inventory.set_stock(scripts, keys, ledger, now_ms=NOW)
    yield scripts, keys
    await forget_drops(any_redis, [keys.drop_id])


async def _hold(scripts: ScriptRegistry, keys: DropKeys, fan: int, items: list[HoldItem],
                *, now_ms: int = NOW, ttl_ms: int = 60_000) -> str:
    _, pass_id = await grant_pass(scripts.client, SECRET, keys.drop_id, fan, now_ms=now_ms)
    hold_id = str(uuid.uuid4())
    await inventory.reserve_hold(scripts, keys, hold_id=hold_id, fan_id=fan, pass_id=pass_id,
                                 items=items, now_ms=now_ms, expires_ms=now_ms + ttl_ms)
    return hold_id


def test_every_purchase_script_declares_the_keys_its_wrapper_passes() -> None:
    sources = load_sources()
    expected = {"reserve_hold": 7, "release_hold": 5, "convert_hold": 3, "finish_hold": 2,
                "set_stock": 5}
    assert {name: sources[name].key_count for name in expected} == expected


async def test_reserve_takes_stock_and_counts_the_fan(drop) -> None:
    scripts, keys = drop
    await _hold(scripts, keys, 7, [HoldItem(1, 3, 4), HoldItem(2, 1, 2)])
    assert await inventory.read_stock(scripts, keys) == {1: 7, 2: 1}
    counts = await scripts.client.hgetall(keys.fan_counts)
    assert counts == {b"7:1": b"3", b"7:2": b"1"}


async def test_multi_tier_hold_is_all_or_nothing(drop) -> None:
    scripts, keys = drop
    with pytest.raises(inventory.SoldOut) as refused:
        await _hold(scripts, keys, 7, [HoldItem(1, 2, 4), HoldItem(2, 3, 4)])
    assert refused.value.fields["tier_id"] == 2
    assert await inventory.read_stock(scripts, keys) == {1: 10, 2: 2}
    assert await scripts.client.hlen(keys.holds) == 0


async def test_per_fan_limit_spans_every_hold_of_the_fan(drop) -> None:
    scripts, keys = drop
    await _hold(scripts, keys, 7, [HoldItem(1, 3, 4)])
    with pytest.raises(inventory.OverLimit):
        await _hold(scripts, keys, 7, [HoldItem(1, 2, 4)])
    await _hold(scripts, keys, 8, [HoldItem(1, 4, 4)])  # another fan has their own limit
    assert await inventory.read_stock(scripts, keys) == {1: 3, 2: 2}


async def test_dead_or_replaced_pass_holds_nothing(drop) -> None:
    scripts, keys = drop
    _, pass_id = await grant_pass(scripts.client, SECRET, keys.drop_id, 5, now_ms=NOW, ttl_ms=1000)
    hold = {"fan_id": 5, "items": [HoldItem(1, 1, 4)], "expires_ms": NOW + 60_000}
    with pytest.raises(inventory.PassNotLive):  # expired session
        await inventory.reserve_hold(scripts, keys, hold_id="h1", pass_id=pass_id,
                                     now_ms=NOW + 1000, **hold)
    with pytest.raises(inventory.PassNotLive):  # a pass that is not the live one
        await inventory.reserve_hold(scripts, keys, hold_id="h2", pass_id="other",
                                     now_ms=NOW, **hold)
    await scripts.client.hdel(keys.passes, "5")  # revoked
    with pytest.raises(inventory.PassNotLive):
        await inventory.reserve_hold(scripts, keys, hold_id="h3", pass_id=pass_id,
                                     now_ms=NOW, **hold)
    assert await inventory.read_stock(scripts, keys) == {1: 10, 2: 2}


async def test_unknown_tier_asks_for_a_load(drop) -> None:
    scripts, keys = drop
    with pytest.raises(inventory.InventoryNotLoaded):
        await _hold(scripts, keys, 7, [HoldItem(99, 1, 4)])


async def test_release_returns_stock_exactly_once_and_only_to_the_owner(drop) -> None:
    scripts, keys = drop
    hold_id = await _hold(scripts, keys, 7, [HoldItem(1, 2, 4)])
    assert await inventory.release_holds(scripts, keys, [hold_id], now_ms=NOW, owner_fan_id=8) == []
    assert await inventory.release_holds(scripts, keys, [hold_id], now_ms=NOW,
                                         owner_fan_id=7) == [hold_id]
    assert await inventory.release_holds(scripts, keys, [hold_id], now_ms=NOW) == []
    assert await inventory.read_stock(scripts, keys) == {1: 10, 2: 2}
    assert await scripts.client.hgetall(keys.fan_counts) == {}


async def test_sweep_returns_only_expired_holds(drop) -> None:
    scripts, keys = drop
    short = await _hold(scripts, keys, 7, [HoldItem(1, 2, 4)], ttl_ms=1000)
    await _hold(scripts, keys, 8, [HoldItem(1, 3, 4)], ttl_ms=5000)
    assert await inventory.sweep_expired(scripts, keys, now_ms=NOW + 999) == []
    assert await inventory.sweep_expired(scripts, keys, now_ms=NOW + 1000) == [short]
    assert await inventory.read_stock(scripts, keys) == {1: 7, 2: 2}


async def test_sellout_is_held_while_carts_may_expire_and_sold_once_all_are_paid(drop) -> None:
    scripts, keys = drop
    most = await _hold(scripts, keys, 7, [HoldItem(1, 10, 10), HoldItem(2, 1, 2)])
    assert await inventory.sellout(scripts, keys) == ""
    last = await _hold(scripts, keys, 8, [HoldItem(2, 1, 2)])
    assert await inventory.sellout(scripts, keys) == "held"
    await inventory.release_holds(scripts, keys, [last], now_ms=NOW)
    assert await inventory.sellout(scripts, keys) == ""
    last = await _hold(scripts, keys, 8, [HoldItem(2, 1, 2)])
    await inventory.convert_hold(scripts, keys, hold_id=most, order_id="o1", now_ms=NOW)
    assert await inventory.sellout(scripts, keys) == "held"  # `last` may still expire
    await inventory.convert_hold(scripts, keys, hold_id=last, order_id="o2", now_ms=NOW)
    assert await inventory.sellout(scripts, keys) == "sold"


async def test_convert_blocks_expiry_and_is_idempotent_per_order(drop) -> None:
    scripts, keys = drop
    hold_id = await _hold(scripts, keys, 7, [HoldItem(1, 2, 4)], ttl_ms=1000)
    assert await inventory.convert_hold(scripts, keys, hold_id=hold_id, order_id="o1", now_ms=NOW)
    assert not await inventory.convert_hold(scripts, keys, hold_id=hold_id, order_id="o1",
                                            now_ms=NOW + 5000)
    with pytest.raises(inventory.HoldGone):
        await inventory.convert_hold(scripts, keys, hold_id=hold_id, order_id="o2", now_ms=NOW)
    assert await inventory.sweep_expired(scripts, keys, now_ms=NOW + 5000) == []
    assert await inventory.release_holds(scripts, keys, [hold_id], now_ms=NOW) == []
    assert await inventory.read_stock(scripts, keys) == {1: 8, 2: 2}
    assert await inventory.finish_hold(scripts, keys, hold_id=hold_id, ticketed=True)
    assert await scripts.client.hget(keys.fan_counts, "7:1") == b"2"


async def test_convert_refuses_expired_and_released_holds(drop) -> None:
    scripts, keys = drop
    hold_id = await _hold(scripts, keys, 7, [HoldItem(1, 2, 4)], ttl_ms=1000)
    with pytest.raises(inventory.HoldExpired):
        await inventory.convert_hold(scripts, keys, hold_id=hold_id, order_id="o",
                                     now_ms=NOW + 1000)
    await inventory.sweep_expired(scripts, keys, now_ms=NOW + 1000)
    with pytest.raises(inventory.HoldGone):
        await inventory.convert_hold(scripts, keys, hold_id=hold_id, order_id="o", now_ms=NOW)


async def test_finish_refunded_gives_back_the_fan_limit_not_the_stock(drop) -> None:
    scripts, keys = drop
    hold_id = await _hold(scripts, keys, 7, [HoldItem(1, 2, 4)])
    await inventory.convert_hold(scripts, keys, hold_id=hold_id, order_id="o", now_ms=NOW)
    assert await inventory.finish_hold(scripts, keys, hold_id=hold_id, ticketed=False)
    assert await scripts.client.hget(keys.fan_counts, "7:1") is None
    assert await inventory.read_stock(scripts, keys) == {1: 8, 2: 2}


async def test_set_stock_rebuilds_after_flush_with_ledger_holds(drop) -> None:
    scripts, keys = drop
    live = await _hold(scripts, keys, 7, [HoldItem(1, 2, 4)])
    for key in (keys.stock_hash, keys.fan_counts, keys.holds, keys.hold_expiry):
        await scripts.client.delete(key)
    ledger = LedgerView(room={1: 6, 2: 2}, bought={(9, 1): 4}, ticketed=[],
                        holds={live: (7, NOW + 60_000, [(1, 2)]),
                               "stale": (8, NOW - 1, [(1, 1)])})
    report = await inventory.set_stock(scripts, keys, ledger, now_ms=NOW)
    assert report.restored_holds == 1
    assert report.tiers[1] == (None, 4, 2)
    assert await inventory.read_stock(scripts, keys) == {1: 4, 2: 2}
    assert await scripts.client.hget(keys.fan_counts, "7:1") == b"2"
    assert await scripts.client.hget(keys.fan_counts, "9:1") == b"4"
    # The restored hold behaves like any other: it expires and returns its seats once.
    assert await inventory.sweep_expired(scripts, keys, now_ms=NOW + 60_000) == [live]
    assert await inventory.read_stock(scripts, keys) == {1: 6, 2: 2}


async def test_set_stock_counts_in_flight_payments_and_forgets_ticketed_ones(drop) -> None:
    scripts, keys = drop
    in_flight = await _hold(scripts, keys, 7, [HoldItem(1, 2, 4)])
    ticketed = await _hold(scripts, keys, 8, [HoldItem(1, 3, 4)])
    for hold_id in (in_flight, ticketed):
        await inventory.convert_hold(scripts, keys, hold_id=hold_id, order_id=hold_id, now_ms=NOW)
    # The ledger already sold `ticketed` (room 10 - 3); `in_flight` is still on its way.
    ledger = LedgerView(room={1: 7, 2: 2}, bought={(8, 1): 3}, ticketed=[ticketed], holds={})
    report = await inventory.set_stock(scripts, keys, ledger, now_ms=NOW)
    assert report.finished_holds == 1
    assert await inventory.read_stock(scripts, keys) == {1: 5, 2: 2}
    assert report.differences == {}


async def test_if_missing_loads_once(drop) -> None:
    scripts, keys = drop
    ledger = LedgerView(room={1: 1, 2: 1}, bought={}, ticketed=[], holds={})
    report = await inventory.set_stock(scripts, keys, ledger, now_ms=NOW, only_if_missing=True)
    assert not report.loaded
    assert await inventory.read_stock(scripts, keys) == {1: 10, 2: 2}
    ledger = LedgerView(room={1: 1, 2: 1, 3: 5}, bought={}, ticketed=[], holds={})
    report = await inventory.set_stock(scripts, keys, ledger, now_ms=NOW, only_if_missing=True)
    assert report.loaded and report.differences == {1: (10, 1), 2: (2, 1), 3: (None, 5)}

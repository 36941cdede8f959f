"""Hypothesis drives reserve / release / expire / pay against a model of the drop.

At every step: stock + held + sold == capacity per tier, and Redis agrees with the model.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from core.redis_client import close_redis, create_redis
from core.redis_keys import DropKeys
from core.scripts import ScriptRegistry
from purchase import inventory
from purchase.inventory import HoldExpired, HoldGone, HoldItem, LedgerView, OverLimit, SoldOut
from tests.purchase.passes import grant_pass
from tests.support.owned_keys import forget_drops

T = TypeVar("T")
CAPACITY = {1: 6, 2: 3}
LIMIT = {1: 4, 2: 2}
FANS = [11, 12, 13]
START = 1_900_000_000_000
_drops = itertools.count(700_000 + uuid.uuid4().int % 10_000 * 10)


def inventory_machine(redis_url: str) -> type[RuleBasedStateMachine]:
    class DropMachine(RuleBasedStateMachine):
        holds = Bundle("holds")

        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.client = create_redis(redis_url)
            self.scripts = ScriptRegistry(self.client)
            self.keys = DropKeys(next(_drops))
            self.now = START
            self.model_holds: dict[str, tuple[int, int, dict[int, int]]] = {}  # id -> fan, exp
            self.sold = {tier: 0 for tier in CAPACITY}
            self.bought = {(fan, tier): 0 for fan in FANS for tier in CAPACITY}
            self.passes = {fan: self.run(grant_pass(self.client, "s", self.keys.drop_id, fan,
                                                    now_ms=START, ttl_ms=10**9))[1] for fan in FANS}
            self.run(inventory.set_stock(self.scripts, self.keys, LedgerView(
                room=dict(CAPACITY), bought={}, ticketed=[], holds={}), now_ms=self.now))

        def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(coroutine)

        def teardown(self) -> None:
            self.run(forget_drops(self.client, [self.keys.drop_id]))
            self.run(close_redis(self.client))
            self.loop.close()

        def held(self, tier: int) -> int:
            return sum(items.get(tier, 0) for _, _, items in self.model_holds.values())

        def counted(self, fan: int, tier: int) -> int:
            held = sum(items.get(tier, 0) for owner, _, items in self.model_holds.values()
                       if owner == fan)
            return held + self.bought[(fan, tier)]

        @rule(target=holds, fan=st.sampled_from(FANS), ga=st.integers(0, 3),
              vip=st.integers(0, 2), ttl=st.integers(1, 50))
        def reserve(self, fan: int, ga: int, vip: int, ttl: int) -> str:
            wanted = {tier: n for tier, n in ((1, ga), (2, vip)) if n}
            if not wanted:
                wanted = {1: 1}
            hold_id = str(uuid.uuid4())
            stock = {tier: CAPACITY[tier] - self.sold[tier] - self.held(tier) for tier in CAPACITY}
            fits = all(stock[t] >= n for t, n in wanted.items())
            within = all(self.counted(fan, t) + n <= LIMIT[t] for t, n in wanted.items())
            try:
                self.run(inventory.reserve_hold(
                    self.scripts, self.keys, hold_id=hold_id, fan_id=fan, pass_id=self.passes[fan],
                    items=[HoldItem(t, n, LIMIT[t]) for t, n in sorted(wanted.items())],
                    now_ms=self.now, expires_ms=self.now + ttl))
            except SoldOut:  # refusals name the first failing tier; any true reason will do
                assert not fits
            except OverLimit:
                assert not within
            else:
                assert fits and within
                self.model_holds[hold_id] = (fan, self.now + ttl, wanted)
            return hold_id

        @rule(hold_id=consumes(holds))
        def release(self, hold_id: str) -> None:
            released = self.run(inventory.release_holds(self.scripts, self.keys, [hold_id],
                                                        now_ms=self.now))
            assert released == ([hold_id] if hold_id in self.model_holds else [])
            self.model_holds.pop(hold_id, None)

        @rule(step=st.integers(1, 30))
        def time_passes_and_sweeper_runs(self, step: int) -> None:
            self.now += step
            swept = set(self.run(inventory.sweep_expired(self.scripts, self.keys, now_ms=self.now)))
            expired = {h for h, (_, exp, _) in self.model_holds.items() if exp <= self.now}
            assert swept == expired
            for hold_id in expired:
                del self.model_holds[hold_id]

        @rule(hold_id=consumes(holds))
        def pay(self, hold_id: str) -> None:
            live = hold_id in self.model_holds and self.model_holds[hold_id][1] > self.now
            try:
                self.run(inventory.convert_hold(self.scripts, self.keys, hold_id=hold_id,
                                                order_id=hold_id, now_ms=self.now))
            except (HoldExpired, HoldGone):
                assert not live
                return
            assert live
            fan, _, items = self.model_holds.pop(hold_id)
            self.run(inventory.finish_hold(self.scripts, self.keys, hold_id=hold_id,
                                           ticketed=True))
            for tier, n in items.items():
                self.sold[tier] += n
                self.bought[(fan, tier)] += n

        @invariant()
        def stock_held_and_sold_add_up(self) -> None:
            stock = self.run(inventory.read_stock(self.scripts, self.keys))
            for tier, capacity in CAPACITY.items():
                assert stock[tier] >= 0
                assert stock[tier] + self.held(tier) + self.sold[tier] == capacity
            sellout = self.run(inventory.sellout(self.scripts, self.keys))
            if sum(stock.values()) > 0:
                assert sellout == ""
            else:  # every seat held or sold: "held" while any hold could still come back
                assert sellout == ("held" if self.model_holds else "sold")

    return DropMachine


def test_inventory_matches_the_model(redis_url: str) -> None:
    machine = inventory_machine(redis_url)
    machine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
    machine.TestCase().runTest()


pytestmark = pytest.mark.slow

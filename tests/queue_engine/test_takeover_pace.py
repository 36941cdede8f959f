"""Admission pace survives the pacing worker's death (issue 14): three real admission
loops on real Redis; the lease holder crashes twice (cancelled without releasing its
lease); admissions over the stretch stay within 5 % of admit_per_minute."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from core.clock import to_ms, utcnow
from core.redis_client import RedisClient
from core.redis_keys import DropKeys
from core.scripts import ScriptRegistry
from queue_engine.drop_config import sync_config
from queue_engine.jobs import admission_loop
from queue_engine.line import join_line, open_line
from tests.queue_engine.conftest import drop_config, new_drop_id

RATE = 6000  # per minute: 100 fans/s, so a 1.2 s loss per takeover is plain to see
TICK_MS, LEASE_TTL_MS = 200, 3000  # the default lease: longer than BURST_MS (2 s)


class CrashableScripts(ScriptRegistry):
    """A worker's scripts that stop reaching Redis once it has "crashed": the loop's
    shutdown cannot release its lease, as when the process is killed."""

    crashed = False

    async def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        if self.crashed:
            raise ConnectionError("worker crashed")
        return await super().run(name, keys, args)


async def test_pace_holds_within_5_percent_across_two_takeovers(redis: RedisClient):
    start_ms = to_ms(utcnow())
    config = drop_config(new_drop_id(), prequeue_opens_at_ms=start_ms - 60_000,
                         opens_at_ms=start_ms, closes_at_ms=start_ms + 600_000,
                         admit_per_minute=RATE, max_active=1_000_000)
    keys = DropKeys(config.drop_id)
    setup = ScriptRegistry(redis)
    await sync_config(redis, config)
    await open_line(setup, config.drop_id, now_ms=start_ms)
    for fan in range(1, 2501):
        await join_line(setup, config.drop_id, fan, now_ms=start_ms)

    async def live_configs(_: object) -> list[Any]:
        return [config]

    workers: dict[str, tuple[CrashableScripts, asyncio.Task[None]]] = {}
    for name in ("a", "b", "c"):
        scripts = CrashableScripts(redis)
        task = asyncio.create_task(admission_loop(
            redis, scripts, live_configs, clock=utcnow, worker_id=name, tick_ms=TICK_MS,
            lease_ttl_ms=LEASE_TTL_MS, grace_ms=3_600_000))
        workers[name] = (scripts, task)

    async def admitted() -> int:
        return int(await redis.hget(keys.meta, "admitted") or 0)

    async def crash_holder() -> None:
        holder = (await redis.get(keys.lease)).decode()
        scripts, task = workers.pop(holder)
        scripts.crashed = True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert await redis.get(keys.lease) == holder.encode()  # not released: a crash

    try:
        while await admitted() == 0:
            await asyncio.sleep(0.01)
        first, began = await admitted(), time.monotonic()
        await asyncio.sleep(1.0)
        await crash_holder()
        await asyncio.sleep(4.5)  # the lease runs out (3 s), a survivor catches up
        await crash_holder()
        await asyncio.sleep(5.0)
        count, elapsed = await admitted() - first, time.monotonic() - began
    finally:
        for _, task in workers.values():
            task.cancel()
        await asyncio.gather(*(task for _, task in workers.values()), return_exceptions=True)
        await redis.delete(*(keys.key(n) for n in ("meta", "prequeue", "line", "fanseq", "hb",
                                                     "active", "passes", "admissions", "lease")))
    expected = RATE * elapsed / 60
    assert abs(count - expected) <= 0.05 * expected, (count, round(expected))

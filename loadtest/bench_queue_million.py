"""A 1,000,000-fan line: Redis memory it takes, the join rate, and what a tick costs at
that size (issue 14).

    python -m loadtest.bench_queue_million [--fans 1000000] [--batch 2000]

Starts its own redis-server (AOF off: the figure is the dataset, not the AOF buffer),
opens one drop and joins `--fans` fresh fans through the real join_line script (EVALSHA
with the KEYS of core.redis_keys, pipelines of `--batch`, no transaction). Prints:
- memory: `INFO memory` used_memory after minus before the joins (the total, exact), and
  each of the drop's keys by `MEMORY USAGE key SAMPLES 1000` (an estimate from 1,000
  sampled members: SAMPLES 0 walks a million entries), against the 200 MB goal;
- the join rate (fans/s over the whole pipelined load);
- server time per call (`INFO commandstats`, evalsha usec_per_call) of read_positions
  (one per gateway per tick), admit_batch (100 fans a call), heartbeat_fan (500 fans a
  call, as the gateway's hub sends them) and the stale sweep (one bounded step).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time

from core.clock import to_ms, utcnow
from core.embedded import RedisServer
from core.redis_client import RedisClient, close_redis, create_redis
from core.redis_keys import DropKeys, script_keys
from core.scripts import ScriptRegistry
from loadtest.bench_queue_kit import HOME, figure, note, prepare_drop
from queue_engine.line import drop_stale, heartbeat
from queue_engine.passes import admit_batch
from queue_engine.positions import read_status

GOAL_MB = 200
FIRST_FAN = 1_000_001  # seven-digit account ids, as a big drop's fans have
MB = 1_000_000


async def _used_memory(redis: RedisClient) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def _join_all(redis: RedisClient, registry: ScriptRegistry, drop_id: int, fans: int,
                    batch: int, now_ms: int) -> float:
    """Seconds to join `fans` fans, `batch` EVALSHAs per pipeline round trip."""
    sha = str(await redis.script_load(registry.sources["join_line"].compiled))
    keys = script_keys("join_line", drop_id)
    started = time.monotonic()
    for first in range(FIRST_FAN, FIRST_FAN + fans, batch):
        pipe = redis.pipeline(transaction=False)
        for fan in range(first, min(first + batch, FIRST_FAN + fans)):
            pipe.evalsha(sha, len(keys), *keys, fan, now_ms, 0)
        await pipe.execute()
    return time.monotonic() - started


async def _script_usec(redis: RedisClient) -> float:
    stats = await redis.info("commandstats")
    return float(stats.get("cmdstat_evalsha", {}).get("usec_per_call", 0.0))


async def _timed(redis: RedisClient, calls: int, step) -> float:  # type: ignore[no-untyped-def]
    """Server µs per EVALSHA over `calls` calls of `step(i)`."""
    await redis.config_resetstat()
    for i in range(calls):
        await step(i)
    return await _script_usec(redis)


async def _run(url: str, fans: int, batch: int) -> None:
    redis = create_redis(url, max_connections=8)
    registry = ScriptRegistry(redis)
    drop_id = 1
    now_ms = to_ms(utcnow())
    # Pace admission fast enough that every timed admit_batch call admits its full 100.
    await prepare_drop(redis, drop_id, now_ms=now_ms, admit_per_minute=6_000_000)
    before = await _used_memory(redis)
    seconds = await _join_all(redis, registry, drop_id, fans, batch, now_ms)
    used = await _used_memory(redis) - before

    keys = DropKeys(drop_id)
    per_key: dict[str, int] = {}
    async for key in redis.scan_iter(match=f"{keys.tag}:*"):
        name = key.decode() if isinstance(key, bytes) else str(key)
        per_key[name.removeprefix(keys.tag + ":")] = int(
            await redis.memory_usage(name, samples=1000) or 0)
    line_length = (await read_status(registry, drop_id, now_ms=now_ms)).line_length
    note(f"{line_length:,} fans in line, joined in {seconds:.1f} s "
         f"(pipelines of {batch}); used_memory grew {used / MB:.1f} MB")
    for name, size in sorted(per_key.items(), key=lambda item: -item[1]):
        note(f"  {name:<12} {size / MB:8.1f} MB  ({size / fans:.0f} B a fan)"
             "  MEMORY USAGE SAMPLES 1000")

    later = now_ms + 1000
    positions_us = await _timed(redis, 200, lambda i: read_status(
        registry, drop_id, now_ms=later + i, departures_from=0, max_departures=100))
    hub_chunk = list(range(FIRST_FAN + fans // 2, FIRST_FAN + fans // 2 + 500))
    heartbeat_us = await _timed(redis, 50, lambda i: heartbeat(
        registry, drop_id, hub_chunk, now_ms=later + i))
    sweep_us = await _timed(redis, 20, lambda i: drop_stale(
        registry, drop_id, now_ms=later + i, stale_before_ms=now_ms - 60_000))
    admit_us = await _timed(redis, 50, lambda i: admit_batch(
        registry, drop_id, now_ms=later + 10_000 + i * 1000, max_per_call=100))
    await close_redis(redis)

    figure(f"{fans:,}-fan line: Redis memory", used / MB, "MB", used / MB / GOAL_MB,
           f"the {GOAL_MB} MB goal (INFO used_memory delta)", f"< {GOAL_MB} MB")
    figure(f"{fans:,}-fan line: memory per fan", used / fans, "B", None, "-")
    figure(f"{fans:,}-fan line: join rate (pipelined join_line)", fans / seconds, "joins/s",
           None, "-")
    for name, usec in (("read_positions", positions_us), ("admit_batch (100 fans)", admit_us),
                       ("heartbeat_fan (500 fans)", heartbeat_us),
                       ("stale sweep step", sweep_us)):
        figure(f"{fans:,}-fan line: {name}", usec, "us/call", None,
               "server time, INFO commandstats")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fans", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    server = RedisServer(HOME / "million-redis")
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)
    port = server.start(extra_args=["--appendonly", "no"])
    try:
        asyncio.run(_run(server.url(port), args.fans, args.batch))
    finally:
        server.stop()


if __name__ == "__main__":
    main()

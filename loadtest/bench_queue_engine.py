"""Engine join: `join_line` through the script registry (redis-py asyncio) against
`redis-benchmark` running the very same script (EVALSHA, same KEYS) on the same server.

    python -m loadtest.bench_queue_engine [--seconds 6] [--processes 2] [--tasks 64]

Both sides join fresh fans (redis-benchmark's __rand_int__, our counter) into one
open drop on an embedded redis-server (AOF everysec, as in production). Goal: the
registry path reaches >= 0.8 of redis-benchmark. On a 2-core box the Python client
processes and redis-server share the cores, so the figure says how much of the
server the Python side can use; the server-side cost of the script is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import shutil
import subprocess
import time

from core.clock import to_ms, utcnow
from core.embedded import RedisServer
from core.redis_client import close_redis, create_redis
from core.redis_keys import SCRIPT_KEYS, DropKeys
from core.script_batching import ScriptBatcher
from core.scripts import ScriptRegistry, ScriptRunner, load_sources
from loadtest.bench_queue_kit import HOME, figure, note, prepare_drop
from queue_engine.line import join_line


async def _python_joins(url: str, drop_id: int, first_fan: int, seconds: float,
                        tasks: int, batched: bool) -> int:
    redis = create_redis(url, max_connections=tasks)
    registry = ScriptRegistry(redis)
    scripts: ScriptRunner = ScriptBatcher(registry) if batched else registry
    now_ms = to_ms(utcnow())
    await join_line(registry, drop_id, first_fan, now_ms=now_ms)  # loads the script
    counter = iter(range(first_fan + 1, first_fan + 100_000_000))
    done = 0
    end = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < end:
            await join_line(scripts, drop_id, next(counter), now_ms=now_ms)
            done += 1

    await asyncio.gather(*(worker() for _ in range(tasks)))
    await close_redis(redis)
    return done


def _process(args: tuple[str, int, int, float, int, bool]) -> int:
    # The gateway runs on uvloop (uvicorn picks it when installed); so does this client.
    import uvloop

    return uvloop.run(_python_joins(*args))


def _redis_benchmark(port: int, sha: str, keys: list[str], now_ms: int, requests: int,
                     clients: int) -> float:
    binary = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"
    command = [binary, "-h", "127.0.0.1", "-p", str(port), "-n", str(requests), "-c",
               str(clients), "-r", "100000000", "--csv", "EVALSHA", sha, str(len(keys)), *keys,
               "__rand_int__", str(now_ms)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    found = re.search(r'^"[^"]*","([\d.]+)"', output, re.MULTILINE)
    if not found:
        raise RuntimeError(f"could not read redis-benchmark output:\n{output}")
    return float(found.group(1))


async def _script_usec(url: str) -> float:
    redis = create_redis(url)
    stats = await redis.info("commandstats")
    await close_redis(redis)
    evalsha = stats.get("cmdstat_evalsha", {})
    return float(evalsha.get("usec_per_call", 0.0))


async def _prepare(url: str, drop_id: int) -> str:
    redis = create_redis(url)
    await prepare_drop(redis, drop_id, now_ms=to_ms(utcnow()))
    sha = str(await redis.script_load(load_sources()["join_line"].text))
    await redis.config_resetstat()
    await close_redis(redis)
    return sha


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=64)
    args = parser.parse_args()

    server = RedisServer(HOME / "engine-redis")
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)
    port = server.start()
    url = server.url(port)
    try:
        drop_id = 1
        sha = asyncio.run(_prepare(url, drop_id))
        keys = SCRIPT_KEYS["join_line"](DropKeys(drop_id))
        now_ms = to_ms(utcnow())
        # Size redis-benchmark's run to last about as long as ours.
        probe = _redis_benchmark(port, sha, keys, now_ms, 20_000, args.tasks)
        reference = _redis_benchmark(port, sha, keys, now_ms, int(probe * args.seconds),
                                     args.tasks)
        server_usec = asyncio.run(_script_usec(url))
        spawn = multiprocessing.get_context("spawn")
        results: dict[tuple[int, bool], float] = {}
        offset = 0
        for batched in (False, True):
            for processes in sorted({1, args.processes}):
                jobs = []
                for _ in range(processes):
                    offset += 1
                    jobs.append((url, drop_id, 1_000_000_000 * offset, args.seconds,
                                 args.tasks, batched))
                with spawn.Pool(processes) as pool:
                    counts = pool.map(_process, jobs)
                results[(processes, batched)] = sum(counts) / args.seconds
                note(f"{processes} process(es), {'auto-pipelined' if batched else 'one call'}"
                     f" per join: {sum(counts) / args.seconds:,.0f} joins/s")
        after = _redis_benchmark(port, sha, keys, now_ms, int(probe * args.seconds), args.tasks)
        note(f"redis-benchmark: {reference:,.0f} then {after:,.0f} EVALSHA join_line/s with "
             f"{args.tasks} clients; the script costs {server_usec:.1f} us of server time")
        reference = (reference + after) / 2
        for (processes, batched), rate in sorted(results.items()):
            how = "auto-pipelined" if batched else "one round trip each"
            goal = ">= 0.8" if (processes, batched) == (1, True) else ""
            figure(f"engine join ({how}, {processes} process{'es' if processes > 1 else ''})",
                   rate, "joins/s", rate / reference, "redis-benchmark same script", goal)
    finally:
        server.stop()


if __name__ == "__main__":
    main()

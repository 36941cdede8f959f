"""HTTP join: POST /api/drops/{id}/queue through uvicorn (1 worker) against a bare
Starlette JSON endpoint on the same machine, driven by the same load generator.

    python -m loadtest.bench_queue_http [--seconds 6] [--connections 32] [--load-processes 2]

Every request joins a different fan (distinct bearer tokens), so each is a real
join: auth check (no DB read), one EVALSHA, a cached drop snapshot for the
estimate, a signed queue ticket. Goal: >= 0.5 of the bare endpoint. The server's
CPU use is printed so you can tell which side saturated.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from accounts.tokens import TokenSigner
from bootstrap.migrate import upgrade
from core.clock import to_ms, utcnow
from core.redis_client import close_redis, create_redis
from core.settings import DEMO_SECRET_KEY, Settings
from core.supervisor import cpu_seconds
from loadtest.bench_queue_kit import (
    HOME,
    figure,
    note,
    prepare_drop,
    uvicorn_process,
    wait_redis_ready,
)
from loadtest.bench_queue_kit.http_load import LoadPlan, request_bytes, run_load
from loadtest.stack import servers


async def _prepare(redis_url: str, drop_id: int) -> None:
    redis = create_redis(redis_url)
    await prepare_drop(redis, drop_id, now_ms=to_ms(utcnow()))
    await close_redis(redis)


def _measure(name: str, url: str, pid: int, path: str, requests: list[list[bytes]],
             args: argparse.Namespace, redis_pid: int) -> float:
    port = int(url.rsplit(":", 1)[1])
    plan = LoadPlan("127.0.0.1", port, path, args.seconds, args.connections)
    cpu_before, redis_before = cpu_seconds(pid), cpu_seconds(redis_pid)
    rate, other = run_load(plan, requests)
    busy = (cpu_seconds(pid) - cpu_before) / args.seconds
    redis_busy = (cpu_seconds(redis_pid) - redis_before) / args.seconds
    note(f"{name}: {rate:,.0f} req/s answered 2xx ({other} other), server CPU {busy:.0%}, "
         f"redis-server CPU {redis_busy:.0%}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--fans", type=int, default=60_000)
    args = parser.parse_args()
    home = HOME / "http"
    with servers(home, None, None) as urls:
        wait_redis_ready(urls["REDIS_URL"])
        upgrade(urls["DATABASE_URL"])
        drop_id = int(time.time())
        asyncio.run(_prepare(urls["REDIS_URL"], drop_id))
        settings = Settings.from_env({})
        signer = TokenSigner(DEMO_SECRET_KEY, settings.token_ttl_seconds)
        env = {**urls, "TICKETQ_HOME": str(home), "TICKETQ_ENV": "development"}
        with uvicorn_process("loadtest.bench_queue_kit.reference_app:app", {}, "reference") as (
                ref_url, ref_pid), uvicorn_process("gateway.asgi:app", env, "gateway") as (
                gw_url, gw_pid):
            per_process = args.fans // args.load_processes
            host = "127.0.0.1"
            ref_port, gw_port = int(ref_url.rsplit(":", 1)[1]), int(gw_url.rsplit(":", 1)[1])
            fan_tokens = [[signer.issue(p * per_process + i + 1) for i in range(per_process)]
                          for p in range(args.load_processes)]
            gw_requests = [[request_bytes(host, gw_port, f"/api/drops/{drop_id}/queue",
                                          f"Authorization: Bearer {token}\r\n")
                            for token in tokens] for tokens in fan_tokens]
            ref_requests = [[request_bytes(host, ref_port, "/join",
                                           f"Authorization: Bearer {token}\r\n")
                             for token in tokens[:1000]] for tokens in fan_tokens]
            # Reference before and after the endpoint under test: the box is shared.
            redis_pid = int((home / "redis" / "redis.pid").read_text())
            before = _measure("bare Starlette", ref_url, ref_pid, "/join", ref_requests, args,
                              redis_pid)
            joins = _measure("join endpoint", gw_url, gw_pid, "", gw_requests, args, redis_pid)
            after = _measure("bare Starlette again", ref_url, ref_pid, "/join", ref_requests,
                             args, redis_pid)
    reference = (before + after) / 2
    figure("http join (1 uvicorn worker)", joins, "joins/s", joins / reference,
           "bare Starlette endpoint, same load generator", ">= 0.5")


if __name__ == "__main__":
    main()

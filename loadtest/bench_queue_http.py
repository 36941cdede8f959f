"""HTTP join: POST /api/drops/{id}/queue on one server worker against bare Starlette JSON
endpoints on the same machine, driven by the same load generator.

    python -m loadtest.bench_queue_http [--seconds 6] [--connections 32] [--load-processes 2]
                                        [--server uvicorn|granian]

Every request joins a different fan (distinct bearer tokens), so each is a real
join: auth check (no DB read), the join script, a cached drop snapshot for the
estimate, a signed queue ticket. Three figures (issue 15):
- the join's saturation rate over the bare endpoint's (goal >= 0.5);
- the same over a bare endpoint that makes one Redis call (goal >= 0.8);
- the join's p99 latency at 90 % of its saturation rate, open loop: requests are due
  on a schedule and timed from when they were due (goal <= 5 ms).
The server's CPU use is printed so you can tell which side saturated. `--server
granian` serves every app by Granian instead of uvicorn (`pip install granian`), for
the comparison in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator

from accounts.tokens import TokenSigner
from bootstrap.migrate import upgrade
from core.clock import to_ms, utcnow
from core.redis_client import close_redis, create_redis
from core.settings import DEMO_SECRET_KEY, Settings
from core.supervisor import tree_cpu_seconds
from loadtest.bench_queue_kit import (
    HOME,
    app_process,
    figure,
    note,
    prepare_drop,
    wait_redis_ready,
)
from loadtest.bench_queue_kit.http_load import (
    LoadPlan,
    percentile,
    request_bytes,
    run_load,
    run_processes,
)
from loadtest.stack import servers

REFERENCE_APP = "loadtest.bench_queue_kit.reference_app:app"
P99_LOAD = 0.9  # of the join's saturation rate
# Open loop: enough connections that each waits for its next due time, at ~4 ms a join.
OPEN_LOOP_CONNECTIONS = 64


async def _prepare(redis_url: str, drop_id: int) -> None:
    redis = create_redis(redis_url)
    await prepare_drop(redis, drop_id, now_ms=to_ms(utcnow()))
    await close_redis(redis)


class Meter:
    """Closed-loop runs of one load generator against several servers, with each
    server's (and Redis's) CPU use over the run."""

    def __init__(self, args: argparse.Namespace, redis_pid: int) -> None:
        self.args, self.redis_pid = args, redis_pid

    def rate(self, name: str, url: str, pid: int, requests: list[list[bytes]]) -> float:
        port = int(url.rsplit(":", 1)[1])
        plan = LoadPlan("127.0.0.1", port, "", self.args.seconds, self.args.connections)
        with self._cpu(name, pid) as report:
            rate, other = run_load(plan, requests)
            report(f"{rate:,.0f} req/s answered 2xx ({other} other)")
        return rate

    def p99_ms(self, name: str, url: str, pid: int, requests: list[list[bytes]],
               rate_per_s: float) -> float:
        port = int(url.rsplit(":", 1)[1])
        per_process = rate_per_s / len(requests)
        plan = LoadPlan("127.0.0.1", port, "", self.args.seconds, OPEN_LOOP_CONNECTIONS,
                        rate_per_s=per_process)
        with self._cpu(name, pid) as report:
            result = run_processes(plan, requests)
            p50, p99 = (percentile(result.latencies_s, q) * 1000 for q in (0.5, 0.99))
            report(f"open loop, {rate_per_s:,.0f} req/s due: "
                   f"{result.ok / self.args.seconds:,.0f} req/s answered 2xx "
                   f"({result.other} other), p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        return p99

    @contextlib.contextmanager
    def _cpu(self, name: str, pid: int) -> Iterator[Callable[[str], None]]:
        """Yields where to put the run's result; prints it with the CPU the run used."""
        cpu_before, redis_before = tree_cpu_seconds(pid), tree_cpu_seconds(self.redis_pid)
        lines: list[str] = []
        yield lines.append
        busy = (tree_cpu_seconds(pid) - cpu_before) / self.args.seconds
        redis_busy = (tree_cpu_seconds(self.redis_pid) - redis_before) / self.args.seconds
        note(f"{name}: {' '.join(lines)}, server CPU {busy:.0%}, "
             f"redis-server CPU {redis_busy:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--fans", type=int, default=60_000)
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    parser.add_argument("--p99-load", type=float, default=P99_LOAD,
                        help="the open loop's rate, as a fraction of the join's saturation")
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
        ref_env = {"REDIS_URL": urls["REDIS_URL"]}
        with app_process(REFERENCE_APP, ref_env, "reference", server=args.server) as (
                ref_url, ref_pid), app_process("gateway.asgi:app", env, "gateway",
                                               server=args.server) as (gw_url, gw_pid):
            per_process = args.fans // args.load_processes
            host = "127.0.0.1"
            ref_port, gw_port = int(ref_url.rsplit(":", 1)[1]), int(gw_url.rsplit(":", 1)[1])
            fan_tokens = [[signer.issue(p * per_process + i + 1) for i in range(per_process)]
                          for p in range(args.load_processes)]
            gw_requests = [[request_bytes(host, gw_port, f"/api/drops/{drop_id}/queue",
                                          f"Authorization: Bearer {token}\r\n")
                            for token in tokens] for tokens in fan_tokens]

            def reference_requests(path: str) -> list[list[bytes]]:
                return [[request_bytes(host, ref_port, path, f"Authorization: Bearer {token}\r\n")
                         for token in tokens[:1000]] for tokens in fan_tokens]

            bare, one_call = reference_requests("/join"), reference_requests("/join-redis")
            meter = Meter(args, int((home / "redis" / "redis.pid").read_text()))
            # References before and after the endpoint under test: the box is shared.
            before = meter.rate("bare Starlette", ref_url, ref_pid, bare)
            redis_before = meter.rate("bare Starlette + 1 Redis call", ref_url, ref_pid,
                                      one_call)
            joins = meter.rate("join endpoint", gw_url, gw_pid, gw_requests)
            redis_after = meter.rate("bare Starlette + 1 Redis call again", ref_url, ref_pid,
                                     one_call)
            after = meter.rate("bare Starlette again", ref_url, ref_pid, bare)
            # The same fans from the start: mostly re-joins (200), the same script and work.
            p99 = meter.p99_ms("join endpoint", gw_url, gw_pid, gw_requests,
                               args.p99_load * joins)
    server = f"1 {args.server} worker"
    reference, redis_reference = (before + after) / 2, (redis_before + redis_after) / 2
    figure(f"http join ({server})", joins, "joins/s", joins / reference,
           "bare Starlette endpoint, same load generator", ">= 0.5")
    figure(f"http join vs one Redis call ({server})", joins, "joins/s",
           joins / redis_reference, "bare Starlette endpoint making one Redis GET", ">= 0.8")
    figure(f"http join p99 at {args.p99_load:.0%} of saturation ({server})", p99, "ms", None,
           "open loop, timed from when each request was due", "<= 5 ms")


if __name__ == "__main__":
    main()

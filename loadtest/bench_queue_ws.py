"""10,000 WebSocket subscribers on one gateway process: memory per connection, and the lag
from an admission tick to the admitted fan's message.

    python -m loadtest.bench_queue_ws [--fans 10000] [--client-processes 4] [--admit-seconds 12]

Everything is on loopback: embedded Redis and Postgres, one uvicorn worker with
production's options (gateway.serving), and subscriber processes each on its own
127.0.0.x source address, offering permessage-deflate as browsers do.
The same subscribers first connect to a bare Starlette WebSocket endpoint (the
reference), served with the same options: its memory per connection, and the lag
of one message pushed to every socket, are the yardsticks the gateway's figures are
divided by.
Goals (ARCHITECTURE/issue): < 20 KiB per connection; p99 lag < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import statistics
import time
from typing import Any, cast

import httpx

from accounts.tokens import TokenSigner
from bootstrap.migrate import upgrade
from core.clock import to_ms, utcnow
from core.redis_client import close_redis, create_redis
from core.redis_keys import DropKeys
from core.script_batching import ScriptBatcher
from core.scripts import ScriptRegistry
from core.settings import DEMO_SECRET_KEY
from gateway.serving import uvicorn_args
from loadtest.bench_queue_kit import (
    HOME,
    figure,
    note,
    prepare_drop,
    rss_kib,
    uvicorn_process,
    wait_redis_ready,
)
from loadtest.bench_queue_kit.ws_clients import ClientReport, Follow, run_clients
from loadtest.stack import servers
from queue_engine.line import join_line
from queue_engine.passes import admit_batch

TICK_S = 0.5


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def _fill_line(redis_url: str, drop_id: int, fans: int) -> None:
    redis = create_redis(redis_url)
    now_ms = to_ms(utcnow())
    await prepare_drop(redis, drop_id, now_ms=now_ms, admit_per_minute=6000)
    batcher = ScriptBatcher(ScriptRegistry(redis))
    for start in range(1, fans + 1, 1000):
        await asyncio.gather(*(join_line(batcher, drop_id, fan, now_ms=now_ms)
                               for fan in range(start, min(fans, start + 999) + 1)))
    await close_redis(redis)


async def _admit(redis_url: str, drop_id: int, seconds: float, batch: int) -> dict[int, float]:
    """Admit `batch` fans every tick, like the worker; return fan -> admission time (ms)."""
    redis = create_redis(redis_url)
    scripts = ScriptRegistry(redis)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        started = loop.time()
        await admit_batch(scripts, drop_id, now_ms=int(time.time() * 1000), max_per_call=batch)
        await asyncio.sleep(max(0.0, TICK_S - (loop.time() - started)))
    admissions = cast(
        list[tuple[bytes, float]],
        await redis.zrange(DropKeys(drop_id).admissions, 0, -1, withscores=True),
    )
    await close_redis(redis)
    return {int(member.decode().rsplit(".", 1)[1]): score for member, score in admissions}


class Subscribers:
    """Client processes following `urls`, split evenly, each from its own source address."""

    def __init__(self, urls: list[Follow], processes: int,
                 compression: str | None = "deflate") -> None:
        context = multiprocessing.get_context("spawn")
        self.manager = context.Manager()
        self.ready: Any = self.manager.Queue()
        self.stop: Any = self.manager.Event()
        self.pool = context.Pool(processes)
        self.results = [
            self.pool.apply_async(run_clients, (urls[i::processes], f"127.0.0.{2 + i}",
                                                self.ready, self.stop, compression))
            for i in range(processes)
        ]
        self.processes = processes

    def wait_ready(self) -> tuple[int, int]:
        connected = failed = 0
        for _ in range(self.processes):
            ok, bad, errors = self.ready.get(timeout=300)
            connected, failed = connected + ok, failed + bad
            for error in errors:
                note(f"connect error: {error}")
        return connected, failed

    def finish(self) -> list[ClientReport]:
        self.stop.set()
        reports = [result.get(timeout=120) for result in self.results]
        self.pool.close()
        self.pool.join()
        self.manager.shutdown()
        return reports


def _memory(pid: int, before_kib: int, connected: int) -> float:
    time.sleep(2)  # let buffers settle
    return (rss_kib(pid) - before_kib) / max(1, connected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fans", type=int, default=10_000)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--admit-seconds", type=float, default=12.0)
    parser.add_argument("--batch", type=int, default=50, help="fans admitted per tick")
    parser.add_argument("--ws", default=None,
                        help="uvicorn WebSocket implementation for both servers "
                             "(default: production's, see gateway.serving)")
    parser.add_argument("--offer-deflate", action=argparse.BooleanOptionalAction, default=True,
                        help="clients offer permessage-deflate, as browsers do")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # uvicorn inherits it
    home = HOME / "ws"
    compression = "deflate" if args.offer_deflate else None
    # Fans in the line are ids only (no accounts): a minted bearer token's session is
    # live until revoked (accounts.sessions), which is all the socket checks.
    signer = TokenSigner(DEMO_SECRET_KEY, 24 * 3600)
    with servers(home, None, None) as urls:
        wait_redis_ready(urls["REDIS_URL"])
        upgrade(urls["DATABASE_URL"])
        drop_id = int(time.time())
        asyncio.run(_fill_line(urls["REDIS_URL"], drop_id, args.fans))
        fans = range(1, args.fans + 1)
        tokens = {fan: signer.issue(fan) for fan in fans}

        reference_app = "loadtest.bench_queue_kit.reference_app:app"
        with uvicorn_process(reference_app, {}, "ws-ref", args.ws) as (ref_url, ref_pid):
            base = ref_url.replace("http", "ws", 1)
            before = rss_kib(ref_pid)
            # The same Authorization header as the gateway's clients: equal handshakes.
            clients = Subscribers([(fan, f"{base}/ws", tokens[fan]) for fan in fans],
                                  args.client_processes, compression)
            connected, failed = clients.wait_ready()
            ref_memory = _memory(ref_pid, before, connected)
            for _ in range(3):
                httpx.post(f"{ref_url}/push", timeout=60)
                time.sleep(1)
            reports = clients.finish()
        ref_lags = [lag for report in reports for lag in report.push_lags_ms]
        note(f"reference: {connected:,} connected ({failed} failed), {ref_memory:.1f} KiB each, "
             f"push p50 {percentile(ref_lags, 0.5):.0f} ms p99 {percentile(ref_lags, 0.99):.0f} ms")

        env = {**urls, "TICKETQ_HOME": str(home), "TICKETQ_ENV": "development"}
        with uvicorn_process("gateway.asgi:app", env, "ws-gateway", args.ws) as (
                gw_url, gw_pid):
            base = gw_url.replace("http", "ws", 1)
            before = rss_kib(gw_pid)
            started = time.monotonic()
            clients = Subscribers(
                [(fan, f"{base}/ws/drops/{drop_id}/queue", tokens[fan]) for fan in fans],
                args.client_processes, compression)
            connected, failed = clients.wait_ready()
            opened_s = time.monotonic() - started
            memory = _memory(gw_pid, before, connected)
            admitted = asyncio.run(_admit(urls["REDIS_URL"], drop_id, args.admit_seconds,
                                          args.batch))
            time.sleep(3)
            reports = clients.finish()
    heard = {fan: at for report in reports for fan, at in report.admitted_at_ms.items()}
    lags = [heard[fan] - at for fan, at in admitted.items() if fan in heard]
    missing = sum(1 for fan in admitted if fan not in heard)
    messages = sum(report.messages for report in reports)
    note(f"gateway: {connected:,} connected ({failed} failed) in {opened_s:.1f}s, "
         f"{memory:.1f} KiB each; {len(admitted):,} admitted, {missing} never heard; "
         f"{messages:,} messages in all")
    note(f"admission lag p50 {percentile(lags, 0.5):.0f} ms, p99 {percentile(lags, 0.99):.0f} ms,"
         f" max {max(lags, default=float('nan')):.0f} ms, mean {statistics.fmean(lags):.0f} ms")
    note(f"uvicorn {' '.join(uvicorn_args(ws=args.ws) if args.ws else uvicorn_args())}; "
         f"clients {'offer' if args.offer_deflate else 'do not offer'} permessage-deflate")
    figure("ws memory per connection", memory, "KiB", memory / ref_memory,
           "bare Starlette WebSocket, same clients", "< 20 KiB")
    p99 = percentile(lags, 0.99)
    figure("ws admission-to-message lag p99", p99, "ms", p99 / percentile(ref_lags, 0.99),
           "bare Starlette push to every socket, p99", "< 1000 ms")
    if missing:  # a fan who never heard of their admission has no lag to count
        note(f"goal NOT met whatever the p99: {missing} admitted fans never heard")


if __name__ == "__main__":
    main()

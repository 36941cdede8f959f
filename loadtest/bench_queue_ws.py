"""WebSocket subscribers held by gateway processes: memory per connection, and the lag
from an admission tick to the admitted fan's message.

    python -m loadtest.bench_queue_ws [--fans 10000] [--gateways N] [--client-processes N]
        [--admit-seconds 12] [--sockets-per-source 20000]

Everything is on loopback: embedded Redis and Postgres, `--gateways` uvicorn
processes with production's options (gateway.serving), fan i's socket on process
i mod N, and subscriber processes offering permessage-deflate as browsers do, each
socket from the 127.0.0.x source address loadtest.source_addresses gives its fan.
The same subscribers first connect to as many bare Starlette WebSocket processes (the
reference), served with the same options and spread the same way: their memory per
connection, and the lag of one message pushed to every socket, are the yardsticks
the gateway's figures are divided by.

A process holds at most its file-descriptor limit of sockets: the benchmark raises
its soft limit to the hard one (its servers and clients inherit it) and runs as many
server and client processes as that needs (100,000 sockets under a hard limit of
20,000: 6 of each), printing what the box allows.
Goals (issue 15): memory per socket <= 1.0x the bare socket's; lag p99 < 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
    raise_file_limit,
    rss_kib,
    uvicorn_process,
    wait_redis_ready,
)
from loadtest.bench_queue_kit.ws_clients import ClientReport, Follow, run_clients
from loadtest.source_addresses import DEFAULT_SOCKETS_PER_ADDRESS, address_count, source_for
from loadtest.stack import servers
from queue_engine.line import join_line
from queue_engine.passes import admit_batch

TICK_S = 0.5
# Descriptors a server or client process keeps besides its sockets (pools, logs, pipes).
FD_RESERVE = 1000
MEMORY_GOAL_RATIO = 1.0
LAG_GOAL_MS = 250.0


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


def processes_for(sockets: int, hard_limit: int) -> int:
    """How many processes hold `sockets` sockets under a file-descriptor limit."""
    return max(1, math.ceil(sockets / max(1, hard_limit - FD_RESERVE)))


def follows(base_urls: list[str], path: str, tokens: dict[int, str],
            per_source: int) -> list[Follow]:
    """Fan i follows `path` on server i mod N, from its source address."""
    sources = address_count(len(tokens), per_source)
    return [(fan, f"{base_urls[fan % len(base_urls)]}{path}", token,
             source_for("127.0.0.1", fan, sources)) for fan, token in tokens.items()]


@contextlib.contextmanager
def server_processes(app: str, env: dict[str, str], name: str, count: int,
                     ws: str | None) -> Iterator[list[tuple[str, int]]]:
    """`count` uvicorn processes of `app`; yields their (ws:// base URL, pid)."""
    with contextlib.ExitStack() as stack:
        started = [stack.enter_context(uvicorn_process(app, env, f"{name}{i}", ws))
                   for i in range(count)]
        yield [(url.replace("http", "ws", 1), pid) for url, pid in started]


class Subscribers:
    """Client processes following `urls`, split evenly."""

    def __init__(self, urls: list[Follow], processes: int,
                 compression: str | None = "deflate") -> None:
        context = multiprocessing.get_context("spawn")
        self.manager = context.Manager()
        self.ready: Any = self.manager.Queue()
        self.stop: Any = self.manager.Event()
        self.pool = context.Pool(processes)
        self.results = [
            self.pool.apply_async(run_clients, (urls[i::processes], self.ready, self.stop,
                                                compression))
            for i in range(processes)
        ]
        self.processes = processes
        # Connects slow as the sockets already held grow: 100,000 gateway sockets took
        # over 500 s on 2 cores (docs/performance.md), so allow 100 a second.
        self.open_timeout_s = max(300.0, len(urls) / 100)

    def wait_ready(self) -> tuple[int, int]:
        connected = failed = 0
        for _ in range(self.processes):
            ok, bad, errors = self.ready.get(timeout=self.open_timeout_s)
            connected, failed = connected + ok, failed + bad
            for error in errors:
                note(f"connect error: {error}")
        return connected, failed

    def finish(self) -> list[ClientReport]:
        self.stop.set()
        reports = [result.get(timeout=300) for result in self.results]
        self.pool.close()
        self.pool.join()
        self.manager.shutdown()
        return reports


def _rss(pids: list[int]) -> int:
    return sum(rss_kib(pid) for pid in pids)


def _memory(pids: list[int], before_kib: int, connected: int) -> float:
    time.sleep(2)  # let buffers settle
    return (_rss(pids) - before_kib) / max(1, connected)


def _push_everywhere(http_urls: list[str]) -> None:
    """One reference push per process, all at once (as the gateways' ticks run)."""
    with ThreadPoolExecutor(len(http_urls)) as pool:
        list(pool.map(lambda url: httpx.post(f"{url}/push", timeout=300), http_urls))


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fans", type=int, default=10_000)
    parser.add_argument("--gateways", type=int, default=0,
                        help="gateway processes (and as many reference processes); "
                             "default: as few as the file-descriptor limit allows")
    parser.add_argument("--client-processes", type=int, default=0,
                        help="default: 4, or more if the file-descriptor limit needs them")
    parser.add_argument("--admit-seconds", type=float, default=12.0)
    parser.add_argument("--batch", type=int, default=50, help="fans admitted per tick")
    parser.add_argument("--sockets-per-source", type=int, default=DEFAULT_SOCKETS_PER_ADDRESS,
                        help="sockets per 127.0.0.x source address")
    parser.add_argument("--ws", default=None,
                        help="uvicorn WebSocket implementation for both servers "
                             "(default: production's, see gateway.serving)")
    parser.add_argument("--offer-deflate", action=argparse.BooleanOptionalAction, default=True,
                        help="clients offer permessage-deflate, as browsers do")
    args = parser.parse_args()
    soft, hard = raise_file_limit()
    needed = processes_for(args.fans, hard)
    args.gateways = args.gateways or needed
    args.client_processes = args.client_processes or max(4, needed)
    if min(args.gateways, args.client_processes) < needed:
        parser.error(f"{args.fans:,} sockets under a file-descriptor limit of {hard:,} need "
                     f"--gateways and --client-processes of at least {needed}")
    if args.fans < 1 or args.sockets_per_source < 1:
        parser.error("need --fans >= 1 and --sockets-per-source >= 1")
    note(f"open files: soft limit {soft:,}, hard {hard:,}; soft raised to hard (a higher "
         f"hard limit needs CAP_SYS_RESOURCE); {args.gateways} server and "
         f"{args.client_processes} client processes, <= {hard - FD_RESERVE:,} sockets each; "
         f"{address_count(args.fans, args.sockets_per_source)} source address(es)")
    return args


def main() -> None:
    args = _parse()
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
        tokens = {fan: signer.issue(fan) for fan in range(1, args.fans + 1)}

        reference_app = "loadtest.bench_queue_kit.reference_app:app"
        with server_processes(reference_app, {}, "ws-ref", args.gateways, args.ws) as refs:
            pids = [pid for _, pid in refs]
            before = _rss(pids)
            # The same Authorization header as the gateway's clients: equal handshakes.
            clients = Subscribers(follows([base for base, _ in refs], "/ws", tokens,
                                          args.sockets_per_source),
                                  args.client_processes, compression)
            connected, failed = clients.wait_ready()
            ref_memory = _memory(pids, before, connected)
            for _ in range(3):
                _push_everywhere([base.replace("ws", "http", 1) for base, _ in refs])
                time.sleep(1)
            reports = clients.finish()
        ref_lags = [lag for report in reports for lag in report.push_lags_ms]
        note(f"reference: {connected:,} connected ({failed} failed), {ref_memory:.1f} KiB each, "
             f"push p50 {percentile(ref_lags, 0.5):.0f} ms p99 {percentile(ref_lags, 0.99):.0f} ms")

        env = {**urls, "TICKETQ_HOME": str(home), "TICKETQ_ENV": "development"}
        with server_processes("gateway.asgi:app", env, "ws-gateway", args.gateways,
                              args.ws) as gateways:
            pids = [pid for _, pid in gateways]
            before = _rss(pids)
            started = time.monotonic()
            clients = Subscribers(follows([base for base, _ in gateways],
                                          f"/ws/drops/{drop_id}/queue", tokens,
                                          args.sockets_per_source),
                                  args.client_processes, compression)
            connected, failed = clients.wait_ready()
            opened_s = time.monotonic() - started
            memory = _memory(pids, before, connected)
            admitted = asyncio.run(_admit(urls["REDIS_URL"], drop_id, args.admit_seconds,
                                          args.batch))
            time.sleep(3)
            reports = clients.finish()
    _report(args, reports, admitted, connected, failed, opened_s, memory, ref_memory, ref_lags)


def _report(args: argparse.Namespace, reports: list[ClientReport], admitted: dict[int, float],
            connected: int, failed: int, opened_s: float, memory: float, ref_memory: float,
            ref_lags: list[float]) -> None:
    heard = {fan: at for report in reports for fan, at in report.admitted_at_ms.items()}
    lags = [heard[fan] - at for fan, at in admitted.items() if fan in heard]
    missing = sum(1 for fan in admitted if fan not in heard)
    messages = sum(report.messages for report in reports)
    note(f"gateway: {connected:,} connected ({failed} failed) over {args.gateways} process(es) "
         f"in {opened_s:.1f}s, {memory:.1f} KiB each; {len(admitted):,} admitted, "
         f"{missing} never heard; {messages:,} messages in all")
    note(f"admission lag p50 {percentile(lags, 0.5):.0f} ms, p99 {percentile(lags, 0.99):.0f} ms,"
         f" max {max(lags, default=float('nan')):.0f} ms, "
         f"mean {statistics.fmean(lags) if lags else float('nan'):.0f} ms")
    note(f"uvicorn {' '.join(uvicorn_args(ws=args.ws) if args.ws else uvicorn_args())}; "
         f"clients {'offer' if args.offer_deflate else 'do not offer'} permessage-deflate")
    scale = f"{args.fans:,} sockets, {args.gateways} process(es)"
    figure(f"ws memory per connection ({scale})", memory, "KiB", memory / ref_memory,
           "bare Starlette WebSocket, same server and clients",
           f"<= {MEMORY_GOAL_RATIO:.1f}x")
    p99 = percentile(lags, 0.99)
    figure(f"ws admission-to-message lag p99 ({scale})", p99, "ms",
           p99 / percentile(ref_lags, 0.99), "bare Starlette push to every socket, p99",
           f"< {LAG_GOAL_MS:.0f} ms")
    if missing:  # a fan who never heard of their admission has no lag to count
        note(f"goal NOT met whatever the p99: {missing} admitted fans never heard")


if __name__ == "__main__":
    main()

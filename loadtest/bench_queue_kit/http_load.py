"""A small HTTP/1.1 keep-alive load generator (raw asyncio streams, uvloop), the same
for the endpoint under test and the reference, spread over processes.

Two modes:
- closed loop (`rate_per_s` None): each connection sends its next request as soon as
  the last answer arrived; what is measured is the server's saturation rate.
- open loop (`rate_per_s` set): requests are due on a fixed schedule, spread evenly
  over the connections, whatever the server does. Each latency runs from when the
  request was *due*, not when it was sent, so a stalled server is charged for the
  requests that queued behind the stall (no coordinated omission). Use it below
  saturation, with enough connections that each has time to spare.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LoadPlan:
    host: str
    port: int
    path: str
    seconds: float
    connections: int
    rate_per_s: float | None = None  # per load process; None: closed loop


@dataclass
class LoadResult:
    ok: int = 0
    other: int = 0
    latencies_s: list[float] = field(default_factory=list)  # open loop only


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head[9:12])


async def _connection(plan: LoadPlan, requests: list[bytes], start: float, number: int,
                      result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(plan.host, plan.port)
    end = start + plan.seconds
    # Open loop: this connection's k-th request is due at start + (number + k * C) / rate.
    gap = plan.connections / plan.rate_per_s if plan.rate_per_s else 0.0
    due = start + number / plan.rate_per_s if plan.rate_per_s else start
    index = 0
    try:
        while True:
            if gap:
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            if time.monotonic() >= end:
                break
            writer.write(requests[index % len(requests)])
            index += 1
            status = await _read_answer(reader)
            if 200 <= status < 300:
                result.ok += 1
            else:
                result.other += 1
            if gap:
                result.latencies_s.append(time.monotonic() - due)
                due += gap
    finally:
        writer.close()


async def _run(plan: LoadPlan, requests: list[bytes]) -> LoadResult:
    result = LoadResult()
    start = time.monotonic() + 0.2  # every connection open before the first is due
    await asyncio.gather(*(_connection(plan, requests[i::plan.connections] or requests,
                                       start, i, result) for i in range(plan.connections)))
    return result


def _process(args: tuple[LoadPlan, list[bytes]]) -> LoadResult:
    import uvloop

    return uvloop.run(_run(*args))


def request_bytes(host: str, port: int, path: str, headers: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}"
            f"Content-Length: 0\r\n\r\n").encode()


def run_processes(plan: LoadPlan, requests_per_process: list[list[bytes]]) -> LoadResult:
    """The plan run by one process per request list, their results added up."""
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(len(requests_per_process)) as pool:
        results = pool.map(_process, [(plan, requests) for requests in requests_per_process])
    total = LoadResult()
    for result in results:
        total.ok += result.ok
        total.other += result.other
        total.latencies_s.extend(result.latencies_s)
    return total


def run_load(plan: LoadPlan, requests_per_process: list[list[bytes]]) -> tuple[float, int]:
    """Requests/s answered 2xx over the plan's duration, and how many were not 2xx."""
    result = run_processes(plan, requests_per_process)
    return result.ok / plan.seconds, result.other


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.99 for p99) of a non-empty list."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * fraction)) - 1]

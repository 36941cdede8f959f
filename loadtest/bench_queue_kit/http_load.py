"""A small HTTP/1.1 keep-alive load generator (raw asyncio streams, uvloop), the same
for the endpoint under test and the reference, spread over processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadPlan:
    host: str
    port: int
    path: str
    seconds: float
    connections: int
    make_headers: Callable[[int], str] | None = None  # per request number -> extra headers


async def _connection(plan: LoadPlan, requests: list[bytes], end: float,
                      counts: dict[str, int]) -> None:
    reader, writer = await asyncio.open_connection(plan.host, plan.port)
    index = 0
    try:
        while time.monotonic() < end:
            writer.write(requests[index % len(requests)])
            index += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            key = "ok" if 200 <= status < 300 else "other"
            counts[key] = counts.get(key, 0) + 1
    finally:
        writer.close()


async def _run(plan: LoadPlan, requests: list[bytes]) -> dict[str, int]:
    counts: dict[str, int] = {}
    end = time.monotonic() + plan.seconds
    await asyncio.gather(*(_connection(plan, requests[i::plan.connections] or requests, end,
                                       counts) for i in range(plan.connections)))
    return counts


def _process(args: tuple[LoadPlan, list[bytes]]) -> dict[str, int]:
    import uvloop

    return uvloop.run(_run(*args))


def request_bytes(host: str, port: int, path: str, headers: str = "") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}"
            f"Content-Length: 0\r\n\r\n").encode()


def run_load(plan: LoadPlan, requests_per_process: list[list[bytes]]) -> tuple[float, int]:
    """Requests/s answered 2xx over the plan's duration, and how many were not 2xx."""
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(len(requests_per_process)) as pool:
        results = pool.map(_process, [(plan, requests) for requests in requests_per_process])
    ok = sum(r.get("ok", 0) for r in results)
    other = sum(r.get("other", 0) for r in results)
    return ok / plan.seconds, other

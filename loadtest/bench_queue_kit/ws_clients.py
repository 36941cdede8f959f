"""WebSocket subscribers for the benchmarks, many per process (uvloop).

They offer permessage-deflate, as every browser does, so the server's answer to
that offer (and its cost per socket) is part of what is measured. Each fan's socket
leaves from the 127.0.0.x source address loadtest.source_addresses gives it (so tens of
thousands of loopback connections do not run out of ephemeral ports), the same rule as
the Locust fans'. Each process reports when all its sockets are open, then records
when each fan first hears "admitted" and, for the reference server, how long each
pushed message took to arrive. Each fan sends its bearer token
in the upgrade's Authorization header, as API clients do (no credential in the URL).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from typing import Any


@dataclass
class ClientReport:
    connected: int = 0
    failed: int = 0
    messages: int = 0
    admitted_at_ms: dict[int, float] = field(default_factory=dict)
    push_lags_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# (fan id, socket URL, bearer token or "" for none, source address or None)
Follow = tuple[int, str, str, str | None]


async def _run(urls: list[Follow], ready: Any, stop: Event,
               compression: str | None) -> ClientReport:
    from websockets.asyncio.client import connect

    report = ClientReport()
    opening = asyncio.Semaphore(200)
    sockets = []

    async def follow(fan: int, url: str, token: str, source: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            async with opening:
                socket = await connect(url, compression=compression, open_timeout=120,
                                       additional_headers=headers,
                                       ping_interval=None, max_queue=64,
                                       local_addr=(source, 0) if source else None)
                sockets.append(socket)
                await socket.recv()
                report.connected += 1
        except Exception as exc:
            report.failed += 1
            if len(report.errors) < 5:
                report.errors.append(repr(exc))
            return
        try:
            async for raw in socket:
                now_ms = time.time() * 1000
                report.messages += 1
                message = json.loads(raw)
                if message.get("state") == "admitted" and fan not in report.admitted_at_ms:
                    report.admitted_at_ms[fan] = now_ms
                if "pushed_at_ms" in message:
                    report.push_lags_ms.append(now_ms - message["pushed_at_ms"])
        except Exception:  # closed at the end of the run
            return

    tasks = [asyncio.create_task(follow(*followed)) for followed in urls]
    while report.connected + report.failed < len(urls):
        await asyncio.sleep(0.05)
    ready.put((report.connected, report.failed, report.errors))
    while not stop.is_set():
        await asyncio.sleep(0.05)
    for socket in sockets:
        socket.transport.abort()
    await asyncio.gather(*tasks, return_exceptions=True)
    return report


def run_clients(urls: list[Follow], ready: Any, stop: Event,
                compression: str | None = "deflate") -> ClientReport:
    import uvloop

    from loadtest.bench_queue_kit import raise_file_limit

    raise_file_limit()
    return uvloop.run(_run(urls, ready, stop, compression))

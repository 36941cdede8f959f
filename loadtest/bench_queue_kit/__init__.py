"""Shared pieces of the waiting-room benchmarks (`python -m loadtest.bench_queue_*`).

A package rather than a `bench_*.py` module so that `make bench` does not run it.
"""

from __future__ import annotations

import contextlib
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from core.embedded import free_port
from core.redis_client import RedisClient
from core.scripts import ScriptRegistry
from core.supervisor import Child, Supervisor
from core.supervisor import rss_kib as rss_kib  # re-exported for this part's benchmarks
from loadtest.figures import figure as figure  # re-exported for this part's benchmarks
from loadtest.figures import note as note
from loadtest.launch import LOOPBACK, QUIET, start_uvicorn
from queue_engine.drop_config import DropConfig, sync_config
from queue_engine.line import open_line

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / ".ticketq" / "bench_queue"


async def prepare_drop(redis: RedisClient, drop_id: int, *, now_ms: int,
                       admit_per_minute: int = 600, max_active: int = 1_000_000) -> DropConfig:
    """A drop whose line is open, straight in Redis (no Postgres row needed)."""
    config = DropConfig(drop_id=drop_id, prequeue_opens_at_ms=now_ms - 120_000,
                        opens_at_ms=now_ms - 60_000, closes_at_ms=now_ms + 3_600_000,
                        admit_per_minute=admit_per_minute, max_active=max_active,
                        session_seconds=600, state="scheduled", visible=True,
                        # The line is measured, not the bot guards: a herd from one
                        # loopback address, with no proof-of-work and no per-address limit.
                        challenge_difficulty=0, join_limit_per_ip=0, join_limit_per_network=0)
    await sync_config(redis, config)
    await open_line(ScriptRegistry(redis), drop_id, now_ms=now_ms)
    return config


@contextlib.contextmanager
def uvicorn_process(app: str, env: dict[str, str], name: str, ws: str | None = None
                    ) -> Iterator[tuple[str, int]]:
    """One uvicorn worker on a loopback port with production's options (gateway.serving),
    whichever app it serves, so the reference and the gateway are served alike; `ws`
    swaps the WebSocket implementation for comparisons. Yields (base URL, pid)."""
    with Supervisor(HOME / "logs", cwd=ROOT) as supervisor:
        port = free_port()
        child = start_uvicorn(supervisor, f"{name}-{port}", app, env, port=port, ws=ws,
                              options=(*QUIET, "--backlog", "4096"), health_path="/")
        yield child.url, child.pid


@contextlib.contextmanager
def app_process(app: str, env: dict[str, str], name: str, *, server: str = "uvicorn"
                ) -> Iterator[tuple[str, int]]:
    """`uvicorn_process`, or with `server="granian"` the same app served by one Granian
    worker (its ASGI interface, uvloop, HTTP/1; for comparisons only). Yields (URL, pid):
    Granian's pid is its supervisor, so measure CPU over the process tree."""
    if server == "uvicorn":
        with uvicorn_process(app, env, name) as served:
            yield served
        return
    with Supervisor(HOME / "logs", cwd=ROOT) as supervisor:
        child = _start_granian(supervisor, f"{name}-granian", app, env)
        yield child.url, child.pid


def _start_granian(supervisor: Supervisor, name: str, app: str, env: dict[str, str]) -> Child:
    port = free_port()
    args = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", LOOPBACK,
            "--port", str(port), "--workers", "1", "--loop", "uvloop", "--http", "1",
            "--backlog", "4096", "--log-level", "warning", "--no-access-log", app]
    child = supervisor.start(f"{name}-{port}", args, env, url=f"http://{LOOPBACK}:{port}")
    supervisor.wait_http(child, child.url + "/", 60.0)
    return child


def wait_redis_ready(url: str, timeout_s: float = 120) -> None:
    """An embedded Redis accepts connections while it still loads its AOF; wait for it."""
    import redis

    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                client.ping()
                return
            except (redis.BusyLoadingError, redis.ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        client.close()


def raise_file_limit() -> tuple[int, int]:
    """The soft limit on open files raised to the hard one (children inherit it); returns
    (soft before, hard). Raising the hard limit needs CAP_SYS_RESOURCE, which a
    container usually lacks: the hard limit is what the box allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return soft, hard

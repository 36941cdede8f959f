"""The stack a rehearsal runs against: servers, localstripe, a gateway and a worker.

Everything listens on loopback and is started as a separate process of one
`core.supervisor.Supervisor`, so the report can say which one used the CPU
(`CpuWatch`). localstripe is GPL-licensed: it runs as its own process and we only
speak HTTP to it (never import it).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.embedded import EmbeddedServices
from core.supervisor import Supervisor, tree_cpu_seconds, tree_rss_kib
from loadtest.launch import LOOPBACK as LOOPBACK
from loadtest.launch import QUIET, start_gateway, start_worker
from purchase.demo_stripe import register_webhook, start_localstripe

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Stack:
    """Where a started rehearsal stack answers."""

    base_url: str
    stripe_url: str
    webhook_secret: str
    shop_url: str = ""  # the checkout's own gateway, when the stack has one


def is_loopback_url(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in {"localhost", "::1"} or host.startswith("127.")


def start_stack(supervisor: Supervisor, env: dict[str, str], gateway_workers: int,
                shop_workers: int = 0) -> Stack:
    """localstripe, then a gateway whose webhooks it signs with a fresh secret, then a
    worker; every process is the supervisor's, stopped with it. With `shop_workers`, a
    second gateway (the "shop") serves the checkout and Stripe's webhooks, as a load
    balancer routes them in docs/deploy.md's split: the waiting room's process then
    shares its loop with no order."""
    stripe_url = start_localstripe(supervisor).url
    secret = "whsec_" + secrets.token_hex(16)
    env = {**env, "STRIPE_API_BASE": stripe_url, "STRIPE_WEBHOOK_SECRET": secret}
    base_url = start_gateway(supervisor, env, options=_workers(gateway_workers)).url
    shop_url = (start_gateway(supervisor, env, name="shop", options=_workers(shop_workers)).url
                if shop_workers else "")
    for url in (base_url, shop_url):
        if url and not is_loopback_url(url):
            raise RuntimeError("simulate only ever loads a gateway on a loopback address")
    register_webhook(stripe_url, shop_url or base_url, secret, name="simulate")
    start_worker(supervisor, env)
    return Stack(base_url=base_url, stripe_url=stripe_url, webhook_secret=secret,
                 shop_url=shop_url)


def _workers(count: int) -> tuple[str, ...]:
    return (*QUIET, "--workers", str(count))


@contextlib.contextmanager
def servers(
    home: Path, redis_url: str | None, database_url: str | None
) -> Iterator[dict[str, str]]:
    """The given URLs, or embedded servers under `home` (stopped again if we started them)."""
    if redis_url and database_url:
        yield {"REDIS_URL": redis_url, "DATABASE_URL": database_url}
        return
    embedded = EmbeddedServices(home)
    before = embedded.status()
    urls = embedded.start(want_redis=not redis_url, want_postgres=not database_url)
    try:
        yield {
            "REDIS_URL": redis_url or urls["REDIS_URL"],
            "DATABASE_URL": database_url or urls["DATABASE_URL"],
        }
    finally:
        if before["redis"] == "stopped" and before["postgres"] == "stopped":
            embedded.stop()


def daemon_pids(home: Path) -> dict[str, int]:
    """The embedded Redis and Postgres server pids under `home`, when they run there."""
    found: dict[str, int] = {}
    for name, pid_file in (
        ("redis", home / "redis" / "redis.pid"),
        ("postgres", home / "postgres" / "postmaster.pid"),
    ):
        with contextlib.suppress(OSError, ValueError, IndexError):
            found[name] = int(pid_file.read_text().split()[0])
    return found


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine since boot, from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


PEAK_WINDOW_S = 5.0


class CpuWatch:
    """CPU used by each process of the stack (with its children) and by the whole machine,
    and each process's resident memory (first reading and peak).

    Sampled every half second from a thread, so a process that exits (Locust) keeps
    its last reading. Figures are cores busy on average: 1.0 is one core flat out.
    """

    def __init__(
        self, supervisor: Supervisor, daemons: dict[str, int] | None = None,
        interval_s: float = 0.5,
    ) -> None:
        self.supervisor, self.interval_s = supervisor, interval_s
        self.daemons = daemons or {}
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.rss_first: dict[str, int] = {}
        self.rss_peak: dict[str, int] = {}
        # (monotonic s, machine busy jiffies, total jiffies, each process's CPU s) per
        # sample: the busiest few seconds say who saturated; the run's average cannot
        # (a spike's joins arrive within seconds and the quiet minute after dilutes them).
        self.history: list[tuple[float, int, int, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._machine_start = machine_jiffies()
        self._started = time.monotonic()

    def _sample(self) -> None:
        running = {c.name: c.pid for c in self.supervisor.children if c.running()}
        for name, pid in {**running, **self.daemons}.items():
            used = tree_cpu_seconds(pid)
            if used <= 0:
                continue
            self.first.setdefault(name, used)
            self.last[name] = used
            resident = tree_rss_kib(pid)
            self.rss_first.setdefault(name, resident)
            self.rss_peak[name] = max(resident, self.rss_peak.get(name, 0))
        busy, total = machine_jiffies()
        self.history.append((time.monotonic(), busy, total, dict(self.last)))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> CpuWatch:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def cores_busy(self) -> dict[str, float]:
        wall = max(0.001, time.monotonic() - self._started)
        busy, total = machine_jiffies()
        start_busy, start_total = self._machine_start
        figures = {
            name: round((self.last[name] - self.first[name]) / wall, 2) for name in self.last
        }
        if total > start_total:
            share = (busy - start_busy) / (total - start_total)
            machine = share * (os.cpu_count() or 1)
            ours = sum(figures.values())
            figures["machine (all processes)"] = round(machine, 2)
            # Whatever else ran on the box (other jobs, other tests) competed with the run.
            figures["other processes"] = round(max(0.0, machine - ours), 2)
        return figures

    def peak_cores_busy(self, window_s: float = PEAK_WINDOW_S) -> dict[str, float]:
        """Cores busy in the busiest `window_s` of the run, for each process and for the
        machine (each its own busiest window): who ran flat out during the spike."""
        peaks: dict[str, float] = {}
        start = 0
        for end in range(len(self.history)):
            while self.history[end][0] - self.history[start][0] > window_s:
                start += 1
            then, now = self.history[start], self.history[end]
            span = now[0] - then[0]
            if span < window_s / 2:
                continue
            for name, used in now[3].items():
                if name in then[3]:
                    peaks[name] = max(peaks.get(name, 0.0), (used - then[3][name]) / span)
            if now[2] > then[2]:
                machine = (now[1] - then[1]) / (now[2] - then[2]) * (os.cpu_count() or 1)
                peaks["machine (all processes)"] = max(
                    peaks.get("machine (all processes)", 0.0), machine)
        return {name: round(value, 2) for name, value in peaks.items()}

    def memory_kib(self) -> dict[str, dict[str, int]]:
        """Each process's resident memory in KiB when first seen and at its peak: the
        gateway's growth over the run, divided by the sockets it held, is memory per socket."""
        return {
            name: {"first": self.rss_first[name], "peak": self.rss_peak[name]}
            for name in self.rss_peak
        }

"""The stack a rehearsal runs against: servers, localstripe, a gateway and a worker.

Everything listens on loopback and is started as a separate process, so the
report can say which one used the CPU. localstripe is GPL-licensed: it runs as
its own process and we only speak HTTP to it (never import it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.embedded import EmbeddedServices, free_port
from gateway.serving import GATEWAY_APP, uvicorn_args

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"


def executable(name: str) -> str:
    beside = BIN / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def is_loopback_url(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in {"localhost", "::1"} or host.startswith("127.")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    cpu_start: float = 0.0
    cpu_end: float = 0.0

    def sample_cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                args,
                env={**os.environ, **env},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def stop_all(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.cpu_end = child.cpu_end or child.sample_cpu()
                child.process.terminate()
        for child in reversed(self.children):
            try:
                child.process.wait(10)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait(5)


def wait_http(url: str, child: Child, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.name} exited early:\n{child.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered, which is all we wait for
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{child.name} did not answer on {url} within {timeout_s}s")


def start_localstripe(stack: Stack) -> str:
    port = free_port()
    child = stack.start(
        "localstripe", [executable("localstripe"), "--port", str(port), "--from-scratch"], {}
    )
    url = f"http://{LOOPBACK}:{port}"
    wait_http(f"{url}/v1/customers", child)
    return url


def register_webhook(localstripe_url: str, target_url: str, secret: str) -> None:
    """Ask localstripe to sign and send its webhooks to the gateway."""
    data = urllib.parse.urlencode({"url": target_url, "secret": secret}).encode()
    request = urllib.request.Request(
        f"{localstripe_url}/_config/webhooks/simulate", data=data, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5):
        pass


def start_gateway(stack: Stack, env: dict[str, str], workers: int) -> str:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        GATEWAY_APP,
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        *uvicorn_args(),
        "--log-level",
        "warning",
        "--workers",
        str(workers),
        "--no-access-log",
    ]
    child = stack.start("gateway", args, env)
    url = f"http://{LOOPBACK}:{port}"
    wait_http(f"{url}/healthz", child)
    return url


def start_worker(stack: Stack, env: dict[str, str]) -> Child:
    return stack.start("worker", [executable("ticketq"), "worker"], env)


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


def descendants(pid: int) -> list[int]:
    """Child pids (uvicorn workers, Locust workers) for CPU accounting."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
                    found += descendants(int(entry.name))
    return found


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


class CpuWatch:
    """CPU used by each process of the stack (with its children) and by the whole machine.

    Sampled every half second from a thread, so a process that exits (Locust) keeps
    its last reading. Figures are cores busy on average: 1.0 is one core flat out.
    """

    def __init__(
        self, stack: Stack, daemons: dict[str, int] | None = None, interval_s: float = 0.5
    ) -> None:
        self.stack, self.interval_s = stack, interval_s
        self.daemons = daemons or {}
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._machine_start = machine_jiffies()
        self._started = time.monotonic()

    def _sample(self) -> None:
        running = {c.name: c.process.pid for c in self.stack.children if c.process.poll() is None}
        for name, pid in {**running, **self.daemons}.items():
            used = sum(cpu_seconds(p) for p in [pid, *descendants(pid)])
            if used <= 0:
                continue
            self.first.setdefault(name, used)
            self.last[name] = used

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

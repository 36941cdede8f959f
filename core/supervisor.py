"""Child processes that TicketQ starts itself: the demo's, a rehearsal's, the tests'.

One `Supervisor` starts named children, each with its own log file and in its own
session (so its process group holds whatever it forks: uvicorn workers, Locust
workers), waits until one answers over HTTP, and stops them all in reverse order
of start: SIGTERM to the group, a bounded wait, then SIGKILL. Used as a context
manager it stops everything on the way out, exception or not.

Standard library only: this is the bottom layer, and the demo must not need the
test extras to stop its children.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

LOG_TAIL_LINES = 30


class ChildFailed(RuntimeError):
    """A child exited, or did not answer in time; the message ends with its log tail."""

    def __init__(self, name: str, reason: str, log_tail: str) -> None:
        super().__init__(f"{name} {reason}:\n{log_tail}" if log_tail else f"{name} {reason}")
        self.name, self.reason, self.log_tail = name, reason, log_tail


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_offset: int = 0  # where this run's output starts in a log that is appended to
    url: str = ""  # the address it serves, when it serves one

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        """What this child wrote (stdout and stderr) since it started."""
        try:
            with self.log_path.open("rb") as log_file:
                log_file.seek(self.log_offset)
                return log_file.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """CPU used so far by the child and what it forked, so a report can say which
        process was busy (0 once it has exited: sample while it runs)."""
        return tree_cpu_seconds(self.pid) if self.running() else 0.0


@dataclass
class Supervisor:
    log_dir: Path
    cwd: Path | None = None
    stop_timeout_s: float = 10.0
    children: list[Child] = field(default_factory=list)

    def start(
        self,
        name: str,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        log_path: Path | None = None,
        url: str = "",
    ) -> Child:
        """Start `args` with this process's environment plus `env`; output goes to
        `log_path` (default `log_dir/<name>.log`, appended to)."""
        log_path = log_path or self.log_dir / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            offset = log_file.tell()
            process = subprocess.Popen(
                list(args),
                env={**os.environ, **(env or {})},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                # Its own process group: a stop reaches what it forks, and a Ctrl-C in the
                # terminal reaches only us, so children stop in order, not all at once.
                start_new_session=True,
            )
        child = Child(name, process, log_path, offset, url)
        self.children.append(child)
        return child

    def wait_http(self, child: Child, url: str, timeout_s: float = 60.0) -> None:
        """Return once `url` answers below 500 (401 from localstripe counts: it is up);
        raise ChildFailed if the child exits first or time runs out."""
        deadline = time.monotonic() + timeout_s
        while True:
            if not child.running():
                code = child.process.returncode
                raise ChildFailed(child.name, f"exited early (code {code})", child.log_tail())
            with contextlib.suppress(OSError):
                if _http_status(url) < 500:
                    return
            if time.monotonic() > deadline:
                reason = f"did not answer on {url} within {timeout_s:g}s"
                raise ChildFailed(child.name, reason, child.log_tail())
            time.sleep(0.1)

    def all_running(self) -> bool:
        return all(child.running() for child in self.children)

    def stop(self, child: Child) -> None:
        """SIGTERM to the child's group, up to stop_timeout_s for it to go, then SIGKILL."""
        _signal_group(child.pid, signal.SIGTERM)
        try:
            child.process.wait(self.stop_timeout_s)
        except subprocess.TimeoutExpired:
            _signal_group(child.pid, signal.SIGKILL)
            child.process.wait(5)
        # Whatever it forked and left behind (a grandchild that ignored SIGTERM) goes too.
        _signal_group(child.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        """Every child, last started first: the gateway goes before what it depends on."""
        for child in reversed(self.children):
            self.stop(child)

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()


def _http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our children)
            return int(response.status)
    except urllib.error.HTTPError as answered:
        return answered.code


def _signal_group(pgid: int, signum: int) -> None:
    # The group outlives its leader while any member lives; the id is not reused
    # before then, so signalling it cannot reach a stranger.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (Linux /proc), 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def descendants(pid: int) -> list[int]:
    """The pids `pid` forked, and theirs (uvicorn workers, Locust workers)."""
    parents: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    waiting = list(parents.get(pid, []))
    while waiting:
        child = waiting.pop()
        found.append(child)
        waiting += parents.get(child, [])
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of everything it forked that still runs."""
    return sum(cpu_seconds(p) for p in [pid, *descendants(pid)])


def rss_kib(pid: int) -> int:
    """Resident memory of one process in KiB (Linux /proc), 0 when unknown."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and of everything it forked (uvicorn's workers)."""
    return sum(rss_kib(p) for p in [pid, *descendants(pid)])

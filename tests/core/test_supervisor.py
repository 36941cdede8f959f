"""core/supervisor.py with tiny real children: health waits, early exits, stubborn children,
and grandchildren that must not outlive a stop."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.embedded import free_port
from core.supervisor import ChildFailed, Supervisor, rss_kib, tree_rss_kib

PYTHON = sys.executable

# Ignores SIGTERM, forks a grandchild that ignores it too, says both pids, then sleeps.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
print("ready", grandchild.pid, flush=True)
time.sleep(600)
"""

# Exits on SIGTERM at once, leaving behind a grandchild that ignores it.
ORPHANING = """
import signal, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
print("ready", grandchild.pid, flush=True)
time.sleep(600)
"""


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Running, not merely a zombie nobody has reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def grandchild_pid(log: str) -> int:
    return int(log.split("ready", 1)[1].split()[0])


def test_a_child_is_healthy_once_its_url_answers_and_stops_with_the_supervisor(
    tmp_path: Path,
) -> None:
    port = free_port()
    with Supervisor(tmp_path) as supervisor:
        server = supervisor.start(
            "web", [PYTHON, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
        )
        supervisor.wait_http(server, f"http://127.0.0.1:{port}/")
        assert server.running() and supervisor.all_running()
        assert server.cpu_seconds() > 0
    assert not server.running()
    assert server.log_path == tmp_path / "web.log"


def test_a_child_that_exits_early_fails_the_wait_with_its_log_tail(tmp_path: Path) -> None:
    with Supervisor(tmp_path) as supervisor:
        child = supervisor.start(
            "broken", [PYTHON, "-c", "print('config missing: FOO'); raise SystemExit(3)"]
        )
        with pytest.raises(ChildFailed) as failed:
            supervisor.wait_http(child, f"http://127.0.0.1:{free_port()}/healthz")
    assert failed.value.name == "broken"
    assert "exited early (code 3)" in str(failed.value)
    assert "config missing: FOO" in failed.value.log_tail


def test_a_child_that_never_answers_fails_the_wait_when_time_runs_out(tmp_path: Path) -> None:
    with Supervisor(tmp_path) as supervisor:
        child = supervisor.start("mute", [PYTHON, "-c", "print('up'); import time; time.sleep(60)"])
        with pytest.raises(ChildFailed, match="did not answer"):
            supervisor.wait_http(child, f"http://127.0.0.1:{free_port()}/", timeout_s=0.3)
    assert not child.running()


def test_stop_kills_a_child_that_ignores_sigterm_and_its_children(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path, stop_timeout_s=0.5)
    child = supervisor.start("stubborn", [PYTHON, "-c", STUBBORN])
    wait_until(lambda: "ready" in child.log(), "the child to ignore SIGTERM")
    grandchild = grandchild_pid(child.log())
    assert alive(grandchild)
    supervisor.stop_all()
    assert child.process.returncode == -signal.SIGKILL
    wait_until(lambda: not alive(grandchild), "the grandchild to be killed")


def test_what_a_child_forked_is_stopped_even_when_the_child_goes_quietly(
    tmp_path: Path,
) -> None:
    with Supervisor(tmp_path) as supervisor:
        child = supervisor.start("parent", [PYTHON, "-c", ORPHANING])
        wait_until(lambda: "ready" in child.log(), "the grandchild to start")
        grandchild = grandchild_pid(child.log())
    assert child.process.returncode == -signal.SIGTERM
    wait_until(lambda: not alive(grandchild), "the left-behind grandchild to be killed")


def test_children_stop_last_started_first_even_on_an_exception(tmp_path: Path) -> None:
    stopped: list[str] = []

    class Recording(Supervisor):
        def stop(self, child):  # type: ignore[no-untyped-def]
            stopped.append(child.name)
            super().stop(child)

    with pytest.raises(RuntimeError, match="boom"), Recording(tmp_path) as supervisor:
        for name in ("redis-ish", "worker", "gateway"):
            supervisor.start(name, [PYTHON, "-c", "import time; time.sleep(60)"])
        raise RuntimeError("boom")
    assert stopped == ["gateway", "worker", "redis-ish"]
    assert not any(child.running() for child in supervisor.children)


def test_a_log_appended_to_shows_a_new_run_only_its_own_output(tmp_path: Path) -> None:
    log = tmp_path / "shared.log"
    with Supervisor(tmp_path) as supervisor:
        first = supervisor.start("one", [PYTHON, "-c", "print('first run')"], log_path=log)
        first.process.wait(30)
        second = supervisor.start(
            "two", [PYTHON, "-c", "import os; print('second', os.environ['MARK'])"],
            {"MARK": "env-reached"}, log_path=log,
        )
        second.process.wait(30)
    assert second.log().strip() == "second env-reached"
    assert log.read_text().split() == ["first", "run", "second", "env-reached"]


# Forks a sleeping child, then sleeps: a tree of two processes.
FORKS_A_CHILD = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
time.sleep(600)
"""


def test_resident_memory_of_a_tree_counts_its_children(tmp_path: Path) -> None:
    with Supervisor(tmp_path) as supervisor:
        parent = supervisor.start("parent", [PYTHON, "-c", FORKS_A_CHILD], {})
        own = rss_kib(parent.pid)
        # The child, once started, adds a whole interpreter's resident memory.
        wait_until(lambda: tree_rss_kib(parent.pid) > rss_kib(parent.pid) + 1000, "the child")
        assert own > 0
    assert rss_kib(parent.pid) == 0  # gone: unknown, not an error

"""Real processes for tests: a uvicorn gateway, a worker, localstripe. Each stops with the test.

Each context manager owns one `core.supervisor.Supervisor`, so a test's process (and
whatever it forks) is stopped, SIGKILL after a bounded wait, when the `with` ends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.embedded import free_port
from core.supervisor import Child, Supervisor
from loadtest.launch import start_gateway, start_worker
from purchase.demo_stripe import start_localstripe

ROOT = Path(__file__).resolve().parents[2]

# The fixtures' type: `.process`, `.url`, `.log()`, `.log_path`.
RunningProcess = Child


# The suite signs up and in hundreds of accounts from loopback: exempt it from the
# per-address sign-in/sign-up limits (tests/gateway/test_accounts_api.py tests them
# from other addresses). Per-account limits still apply.
TEST_EXEMPT_NETWORKS = "127.0.0.0/8,::1/128"


def service_env(redis_url: str, database_url: str, **extra: str) -> dict[str, str]:
    return {"REDIS_URL": redis_url, "DATABASE_URL": database_url, "TICKETQ_ENV": "test",
            "TICKETQ_AUTH_LIMIT_EXEMPT_NETWORKS": TEST_EXEMPT_NETWORKS, **extra}


@contextmanager
def gateway_process(env: dict[str, str], log_dir: Path, *,
                    log_level: str = "warning") -> Iterator[Child]:
    """`log_level="info"` turns on uvicorn's access log (what a test of log lines reads)."""
    port = free_port()
    # Tests stop gateways with sockets still open; do not wait for them.
    options = ("--log-level", log_level, "--timeout-graceful-shutdown", "2")
    with Supervisor(log_dir, cwd=ROOT) as supervisor:
        yield start_gateway(supervisor, env, name=f"gateway-{port}", port=port, options=options)


@contextmanager
def worker_process(
    env: dict[str, str], log_dir: Path, name: str = "worker", only: tuple[str, ...] = ()
) -> Iterator[Child]:
    """`ticketq worker` (only the jobs named in `only`, when given)."""
    with Supervisor(log_dir, cwd=ROOT) as supervisor:
        yield start_worker(supervisor, env, name=f"{name}-{time.time_ns()}", only=only)


@contextmanager
def localstripe_process(log_dir: Path) -> Iterator[Child]:
    """localstripe (GPL) runs as its own process on loopback; we only speak HTTP to it."""
    port = free_port()
    with Supervisor(log_dir, cwd=ROOT) as supervisor:
        yield start_localstripe(supervisor, name=f"localstripe-{port}", port=port)

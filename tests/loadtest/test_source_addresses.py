"""Load-test clients spread over 127.0.0.x source addresses (loadtest/source_addresses.py):
the rule, and real connections whose server sees the address it chose."""

from __future__ import annotations

import contextlib
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from core.embedded import free_port
from loadtest.bench_queue_kit.ws_clients import run_clients
from loadtest.config import FAN_SOCKETS
from loadtest.simulate import parse
from loadtest.source_addresses import (
    CROWD_NETWORK,
    address_count,
    is_loopback_target,
    source_address,
    source_for,
)

ROOT = Path(__file__).resolve().parents[2]


def test_one_address_per_twenty_thousand_sockets_by_default() -> None:
    assert address_count(1) == 1
    assert address_count(20_000) == 1
    assert address_count(20_001) == 2
    assert address_count(100_000) == 5
    assert address_count(10_000_000) == 254  # never past 127.0.0.254
    with pytest.raises(ValueError):
        address_count(10, per_address=0)


def test_each_client_keeps_its_address_inside_the_crowd_network() -> None:
    chosen = [source_address(index, 3) for index in range(6)]
    assert chosen == ["127.0.0.1", "127.0.0.2", "127.0.0.3"] * 2
    assert all(address.startswith("127.0.0.") for address in chosen)
    assert str(CROWD_NETWORK) == "127.0.0.0/24"


def test_only_a_loopback_target_gets_a_source_address() -> None:
    assert is_loopback_target("127.0.0.1") and is_loopback_target("localhost")
    assert is_loopback_target("127.9.9.9")
    assert not is_loopback_target("10.0.0.10")
    assert not is_loopback_target("::1")  # a 127/8 source cannot reach IPv6
    assert not is_loopback_target("gateway.example")
    assert source_for("10.0.0.10", 5, 4) is None
    assert source_for("127.0.0.1", 5, 1) is None  # one address: the kernel's choice
    assert source_for("127.0.0.1", 5, 4) == "127.0.0.2"


def test_the_rehearsal_sets_sockets_per_source_address() -> None:
    assert parse([]).sockets_per_source == 20_000
    assert parse(["--sockets-per-source", "500"]).sockets_per_source == 500
    with pytest.raises(SystemExit):
        parse(["--sockets-per-source", "0"])
    assert FAN_SOCKETS == 2  # the socket and one keep-alive HTTP connection


class PeerServer:
    """A real uvicorn on 127.0.0.1 that notes the address each client came from."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []  # (kind, client address)
        self.app = Starlette(routes=[Route("/peer", self._peer),
                                     WebSocketRoute("/peer", self._peer_socket)])

    async def _peer(self, request: Request) -> Response:
        assert request.client is not None
        self.seen.append(("http", request.client.host))
        return JSONResponse({"client": request.client.host})

    async def _peer_socket(self, websocket: WebSocket) -> None:
        await websocket.accept()
        assert websocket.client is not None
        self.seen.append(("ws", websocket.client.host))
        await websocket.send_json({"state": "waiting"})
        with contextlib.suppress(Exception):
            await websocket.receive()

    @contextlib.contextmanager
    def running(self) -> Iterator[int]:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port,
                                               log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the peer server did not start")
            time.sleep(0.05)
        try:
            yield port
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def test_a_locust_fan_connects_from_its_chosen_address() -> None:
    server = PeerServer()
    with server.running() as port:
        done = subprocess.run(
            [sys.executable, "-m", "tests.loadtest.source_address_client", str(port), "6", "4"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    # Fan number 6 of four addresses: 127.0.0.3, for its HTTP calls and its socket alike.
    assert sorted(server.seen) == [("http", "127.0.0.3"), ("ws", "127.0.0.3")]


def test_a_fan_of_a_small_crowd_stays_on_127_0_0_1() -> None:
    server = PeerServer()
    with server.running() as port:
        done = subprocess.run(
            [sys.executable, "-m", "tests.loadtest.source_address_client", str(port), "6", "1"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(server.seen) == [("http", "127.0.0.1"), ("ws", "127.0.0.1")]


def _four_subscribers(port: int) -> tuple[int, int, list[str]]:
    """Four benchmark subscribers on 127.0.0.1-4 towards `port`, opened then closed as the
    benchmark closes them; what they reported once open."""
    ready: queue.Queue[tuple[int, int, list[str]]] = queue.Queue()
    stop = threading.Event()
    url = f"ws://127.0.0.1:{port}/peer"
    follows = [(fan, url, "", source_address(fan, 4)) for fan in range(1, 5)]
    clients = threading.Thread(target=run_clients, args=(follows, ready, stop, None))
    clients.start()
    opened = ready.get(timeout=60)
    stop.set()
    clients.join(timeout=60)
    return opened


def test_the_benchmark_subscribers_connect_from_their_chosen_address() -> None:
    server = PeerServer()
    with server.running() as port:
        assert _four_subscribers(port) == (4, 0, [])
    assert sorted(server.seen) == [("ws", f"127.0.0.{n}") for n in (1, 2, 3, 4)]


# /proc/net/tcp states that keep a closed socket's port: FIN_WAIT1, FIN_WAIT2, TIME_WAIT.
CLOSING_STATES = {"04", "05", "06"}


def _closing_ports_towards(port: int) -> list[str]:
    """Local endpoints of sockets towards `port` still holding their port after a close."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        if int(remote.split(":")[1], 16) == port and state in CLOSING_STATES:
            found.append(local)
    return found


def test_the_benchmark_subscribers_leave_no_port_in_time_wait() -> None:
    # 100,000 sockets closed with a FIN kept their ports for 60 s from the next run.
    server = PeerServer()
    with server.running() as port:
        assert _four_subscribers(port)[:2] == (4, 0)
        time.sleep(0.2)  # a FIN's close would have been answered by now
        assert _closing_ports_towards(port) == []

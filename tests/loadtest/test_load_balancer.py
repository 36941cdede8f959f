"""HAProxy in front of two real gateways-to-be (tiny HTTP servers): health checks take a
dead one out, and every answer names the server that gave it."""

from __future__ import annotations

import http.client
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.embedded import free_port
from core.supervisor import Supervisor
from loadtest import load_balancer
from loadtest.load_balancer import GATEWAY_HEADER, render_config

# Answers every GET with the X-Forwarded-For header it received.
ECHO_FORWARDED = (
    "import http.server, sys\n"
    "class Echo(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = (self.headers.get('X-Forwarded-For') or '-').encode()\n"
    "        self.send_response(200); self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers(); self.wfile.write(body)\n"
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Echo).serve_forever()\n"
)
SERVER = "import http.server, sys; http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler, port=int(sys.argv[1]), bind='127.0.0.1')"  # noqa: E501


def test_config_checks_health_tunnels_sockets_and_names_the_server() -> None:
    text = render_config([("gateway-0", "127.0.0.1:8001")], host="127.0.0.1", port=9000)
    assert "bind 127.0.0.1:9000" in text
    assert "option httpchk GET /healthz" in text
    assert "timeout tunnel" in text
    assert f"set-header {GATEWAY_HEADER} %[srv_name]" in text
    assert "server gateway-0 127.0.0.1:8001 check" in text


def _served_by(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return str(answer.headers[GATEWAY_HEADER])


@pytest.mark.skipif(not load_balancer.available(), reason="needs Debian's haproxy")
def test_a_killed_backend_leaves_the_rotation(tmp_path: Path) -> None:
    (tmp_path / "healthz").write_text("ok")
    with Supervisor(tmp_path / "logs", cwd=tmp_path) as procs:
        backends = []
        for index in range(2):
            port = free_port()
            child = procs.start(f"gateway-{index}", [sys.executable, "-c", SERVER, str(port)])
            procs.wait_http(child, f"http://127.0.0.1:{port}/healthz", 20)
            backends.append((child.name, f"127.0.0.1:{port}"))
        proxy = load_balancer.start_haproxy(procs, backends, tmp_path)
        seen = {_served_by(proxy.url + "/healthz") for _ in range(6)}
        assert seen == {"gateway-0", "gateway-1"}
        procs.stop(procs.children[1])
        # Health checks every 500 ms, out after two failures; bounded wait, no timing asserted.
        deadline = time.monotonic() + 15
        served: list[str] = []
        while time.monotonic() < deadline:
            try:
                served.append(_served_by(proxy.url + "/healthz"))
            except OSError:
                served.append("error")
            if served[-4:] == ["gateway-0"] * 4:
                break
            time.sleep(0.2)
        assert served[-4:] == ["gateway-0"] * 4, served


@pytest.mark.skipif(not load_balancer.available(), reason="needs Debian's haproxy")
def test_gateways_are_told_each_clients_own_address(tmp_path: Path) -> None:
    """The per-address limits count the fan's address, not HAProxy's (X-Forwarded-For,
    which uvicorn trusts from 127.0.0.1 only): a client on another loopback address
    must reach the gateway as that address."""
    with Supervisor(tmp_path / "logs", cwd=tmp_path) as procs:
        port = free_port()
        child = procs.start("gateway-0", [sys.executable, "-c", ECHO_FORWARDED, str(port)])
        procs.wait_http(child, f"http://127.0.0.1:{port}/healthz", 20)
        proxy = load_balancer.start_haproxy(procs, [("gateway-0", f"127.0.0.1:{port}")],
                                            tmp_path)
        host, proxy_port = proxy.url.removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(proxy_port), timeout=5,
                                                source_address=("127.0.0.77", 0))
        try:
            connection.request("GET", "/who")
            answer = connection.getresponse()
            assert answer.status == 200
            assert answer.read().decode() == "127.0.0.77"
        finally:
            connection.close()

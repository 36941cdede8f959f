"""HAProxy in front of two real gateways-to-be (tiny HTTP servers): health checks take a
dead one out, and every answer names the server that gave it."""

from __future__ import annotations

import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.embedded import free_port
from core.supervisor import Supervisor
from loadtest import load_balancer
from loadtest.load_balancer import GATEWAY_HEADER, render_config

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

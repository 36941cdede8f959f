"""The load balancer in front of a rehearsal's gateways: HAProxy from Debian.

Why a real one: production puts one in front of the gateways, and what it does
(health checks that take a dead gateway out, WebSocket upgrades, long-lived
tunnels) is what the fans of a killed gateway depend on. The config is written
from the template below into the run directory; nothing third-party is committed.
HAProxy adds `X-TQ-Gateway: <server name>` to every answer (the WebSocket upgrade
too), so each fan can say which gateway served its socket, and X-Forwarded-For to
every request, so the gateways limit each client by its own address, not HAProxy's.
"""

from __future__ import annotations

import resource
import shutil
from collections.abc import Sequence
from pathlib import Path

from core.embedded import free_port
from core.supervisor import Child, Supervisor
from loadtest.launch import LOOPBACK

HAPROXY = "/usr/sbin/haproxy"
GATEWAY_HEADER = "X-TQ-Gateway"

_TEMPLATE = """\
global
    maxconn {maxconn}
    log stdout format raw local0 warning

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A queue socket lives as long as the fan waits: the tunnel outlives the HTTP timeouts.
    timeout tunnel 1h
    # A gateway busy with a crowd answers /healthz late, not never: checks of 500 ms,
    # then 3 s, took every loaded gateway out at once on a 2-core box. A dead one is
    # caught sooner by real traffic: a refused connection marks it down (observe below).
    timeout check 10s
    option redispatch
    retries 2
    # The gateways must see each fan's own address: the per-address join and sign-up
    # limits count it (gateway.auth.client_of). uvicorn trusts X-Forwarded-For from
    # 127.0.0.1 only (its --forwarded-allow-ips default), which is where HAProxy is.
    option forwardfor

frontend fans
    bind {host}:{port}
    default_backend gateways

backend gateways
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    http-response set-header {header} %[srv_name]
{servers}
"""


def available() -> bool:
    return Path(HAPROXY).exists() or shutil.which("haproxy") is not None


def render_config(gateways: Sequence[tuple[str, str]], *, host: str, port: int) -> str:
    """`gateways` is (name, "host:port") pairs."""
    servers = "\n".join(
        f"    server {name} {address} check inter 1s fall 3 rise 2"
        " observe layer4 error-limit 1 on-error mark-down"
        for name, address in gateways
    )
    return _TEMPLATE.format(host=host, port=port, header=GATEWAY_HEADER, servers=servers,
                            maxconn=max_connections())


def max_connections() -> int:
    """What this process's file limit allows: two descriptors per proxied connection
    (fan side and gateway side), and HAProxy refuses to start past its limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = soft if soft != resource.RLIM_INFINITY else 100_000
    return max(256, min(50_000, (limit - 200) // 2))


def start_haproxy(
    supervisor: Supervisor, gateways: Sequence[tuple[str, str]], folder: Path,
    *, host: str = LOOPBACK, port: int | None = None,
) -> Child:
    """HAProxy in the foreground (-db) as a supervisor child, on `port` (default a free
    one); healthy once /healthz passes through it."""
    port = port or free_port()
    config = folder / "haproxy.cfg"
    config.write_text(render_config(gateways, host=host, port=port))
    binary = HAPROXY if Path(HAPROXY).exists() else (shutil.which("haproxy") or HAPROXY)
    child = supervisor.start(
        "haproxy", [binary, "-f", str(config), "-db"], {}, url=f"http://{host}:{port}"
    )
    supervisor.wait_http(child, child.url + "/healthz", 30.0)
    return child

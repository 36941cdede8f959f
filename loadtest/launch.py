"""Starting TicketQ's own processes under a `core.supervisor.Supervisor`: a uvicorn app
(the gateway, or a benchmark's bare reference app) and the worker.

Why here: a gateway is served with gateway/serving.py's options, and core (where the
supervisor lives) may not import gateway. loadtest is the lowest layer that may, and
that every starter can import: the demo (ticketq/), the rehearsal and benchmarks
(loadtest/) and the tests. localstripe is started by purchase/demo_stripe.py, beside
the rest of what TicketQ knows about it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from core.embedded import free_port
from core.supervisor import Child, Supervisor
from gateway.serving import GATEWAY_APP, uvicorn_args

LOOPBACK = "127.0.0.1"
WILDCARDS = {"0.0.0.0", "::", ""}  # bound to every address: reach it on loopback
# What a rehearsal, a benchmark or a test wants from a gateway: no per-request logging.
QUIET = ("--log-level", "warning", "--no-access-log")


def start_uvicorn(
    supervisor: Supervisor,
    name: str,
    app: str,
    env: Mapping[str, str] | None = None,
    *,
    host: str = LOOPBACK,
    port: int | None = None,
    options: Sequence[str] = QUIET,
    ws: str | None = None,
    health_path: str = "/healthz",
    timeout_s: float = 60.0,
) -> Child:
    """`app` served by uvicorn with production's options (gateway.serving; `ws` swaps the
    WebSocket implementation for comparisons), once `health_path` answers. `child.url`
    is its base address."""
    port = port or free_port()
    args = [
        sys.executable, "-m", "uvicorn", app, "--host", host, "--port", str(port),
        *(uvicorn_args(ws=ws) if ws else uvicorn_args()), *options,
    ]
    reach = LOOPBACK if host in WILDCARDS else host
    child = supervisor.start(name, args, env, url=f"http://{reach}:{port}")
    supervisor.wait_http(child, child.url + health_path, timeout_s)
    return child


def start_gateway(
    supervisor: Supervisor,
    env: Mapping[str, str],
    *,
    name: str = "gateway",
    host: str = LOOPBACK,
    port: int | None = None,
    options: Sequence[str] = QUIET,
) -> Child:
    """The TicketQ gateway, healthy (its /healthz answers)."""
    return start_uvicorn(supervisor, name, GATEWAY_APP, env, host=host, port=port, options=options)


def start_worker(
    supervisor: Supervisor, env: Mapping[str, str], *, name: str = "worker",
    only: Sequence[str] = (),
) -> Child:
    """`ticketq worker` (only the jobs named in `only`, when given); it serves no URL."""
    filters = ["--only", *only] if only else []
    return supervisor.start(
        name, [sys.executable, "-m", "ticketq.cli", "worker", *filters], env
    )

"""Payments offline for `make demo`: a localstripe process whose webhooks reach the gateway.

localstripe is GPL-licensed: TicketQ runs it as a separate process and only
speaks HTTP to it (never imports it). It ignores Idempotency-Key and sends only
payment_intent.succeeded / payment_failed webhooks; TicketQ's own idempotency
and its payment reconciler do not rely on either.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.embedded import free_port, localstripe_command
from core.settings import Settings

DEMO_API_KEY = "sk_test_ticketq_demo"
DEMO_WEBHOOK_SECRET = "whsec_ticketq_demo"


def _localstripe_binary() -> str:
    beside_python = Path(sys.executable).parent / "localstripe"
    found = str(beside_python) if beside_python.exists() else shutil.which("localstripe")
    if not found:
        raise RuntimeError("localstripe is not installed (pip install localstripe)")
    return found


def start_localstripe(home: Path, *, port: int | None = None,
                      timeout_s: float = 30) -> tuple[str, subprocess.Popen[bytes]]:
    """Start localstripe on loopback; returns (base URL for STRIPE_API_BASE, process)."""
    port = port or free_port()
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "localstripe.log").open("ab") as log_file:
        _localstripe_binary()  # a clear error when it is not installed
        process = subprocess.Popen(localstripe_command(port),
                                   stdout=log_file, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited early; see {logs / 'localstripe.log'}")
        try:
            httpx.get(f"{base_url}/v1/customers", timeout=1)
            return base_url, process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"localstripe did not answer within {timeout_s}s")


def register_webhook(base_url: str, gateway_url: str, secret: str = DEMO_WEBHOOK_SECRET,
                     *, name: str = "ticketq", events: list[str] | None = None) -> None:
    """Have localstripe sign its events with `secret` and POST them to the gateway
    (registering the same `name` again replaces the endpoint; `events` filters types)."""
    form = {"url": f"{gateway_url.rstrip('/')}/webhooks/stripe", "secret": secret}
    for index, event_type in enumerate(events or []):
        form[f"events[{index}]"] = event_type
    answer = httpx.post(f"{base_url}/_config/webhooks/{name}", timeout=10, data=form)
    answer.raise_for_status()


def demo_environment(base_url: str) -> dict[str, str]:
    """The variables the gateway and worker need to pay through this localstripe."""
    return {"STRIPE_API_KEY": DEMO_API_KEY, "STRIPE_API_BASE": base_url,
            "STRIPE_WEBHOOK_SECRET": DEMO_WEBHOOK_SECRET}


def start_demo_stripe(settings: Settings, port: int,
                      children: list[subprocess.Popen[bytes]]) -> dict[str, str]:
    """What `ticketq demo` calls: a localstripe whose webhooks reach the demo gateway on
    `port`; returns the STRIPE_* variables for the gateway and worker (the process joins
    `children`, which the demo stops). Nothing is started when a Stripe key is configured."""
    if settings.stripe_api_key:
        return {}
    base_url, process = start_localstripe(settings.home)
    children.append(process)
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host  # noqa: S104
    register_webhook(base_url, f"http://{host}:{port}")
    return demo_environment(base_url)

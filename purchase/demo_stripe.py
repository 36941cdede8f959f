"""Payments offline for `make demo`: a localstripe process whose webhooks reach the gateway.

localstripe is GPL-licensed: TicketQ runs it as a separate process and only
speaks HTTP to it (never imports it). It ignores Idempotency-Key and sends only
payment_intent.succeeded / payment_failed webhooks; TicketQ's own idempotency
and its payment reconciler do not rely on either.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import httpx

from core.embedded import free_port, localstripe_command
from core.settings import Settings
from core.supervisor import Child, Supervisor

DEMO_API_KEY = "sk_test_ticketq_demo"
DEMO_WEBHOOK_SECRET = "whsec_ticketq_demo"


def _localstripe_binary() -> str:
    beside_python = Path(sys.executable).parent / "localstripe"
    found = str(beside_python) if beside_python.exists() else shutil.which("localstripe")
    if not found:
        raise RuntimeError("localstripe is not installed (pip install localstripe)")
    return found


def start_localstripe(supervisor: Supervisor, *, name: str = "localstripe",
                      port: int | None = None, timeout_s: float = 30) -> Child:
    """localstripe on loopback, answering; `child.url` is the base URL for STRIPE_API_BASE
    (log in the supervisor's log folder, `<name>.log`)."""
    port = port or free_port()
    _localstripe_binary()  # a clear error when it is not installed
    # localstripe's own command listens on every interface; this one on loopback only.
    child = supervisor.start(name, localstripe_command(port), url=f"http://127.0.0.1:{port}")
    supervisor.wait_http(child, f"{child.url}/v1/customers", timeout_s)
    return child


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


def start_demo_stripe(settings: Settings, port: int, supervisor: Supervisor) -> dict[str, str]:
    """What `ticketq demo` calls: a localstripe whose webhooks reach the demo gateway on
    `port`; returns the STRIPE_* variables for the gateway and worker (the process is the
    supervisor's, which the demo stops). Nothing is started when a Stripe key is configured."""
    if settings.stripe_api_key:
        return {}
    base_url = start_localstripe(supervisor).url
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host  # noqa: S104
    register_webhook(base_url, f"http://{host}:{port}")
    return demo_environment(base_url)

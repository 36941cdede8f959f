"""POST /webhooks/stripe: the raw body goes to the SDK's signature check untouched."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway import lottery_webhooks
from gateway.bodies import read_raw_body
from gateway.context import services_of
from gateway.openapi import documented
from gateway.schemas.purchase import WebhookReceipt
from purchase.webhooks import handle_webhook


@documented(response=WebhookReceipt)
async def stripe_webhook(request: Request) -> Response:
    """Stripe events (Stripe-Signature on the raw body; replays and stale events change nothing)."""
    payload = await read_raw_body(request)
    now: datetime = services_of(request).clock()
    outcome = await handle_webhook(services_of(request).purchase, payload,
                                   request.headers.get("stripe-signature"), now=now)
    # Verified and new: it may also be a lottery entry's intent (gateway/lottery_webhooks.py).
    if outcome != "duplicate" and await lottery_webhooks.advance_entry(request, payload):
        outcome = "handled"
    return JSONResponse({"received": True, "outcome": outcome})


routes = [Route("/webhooks/stripe", stripe_webhook, methods=["POST"])]

"""Stripe's webhook, the lottery's share: a payment-intent event may finish a browser entry.

purchase handles the event first (signature, replay, its orders); purchase sits below the
lottery in the layers, so the gateway hands the verified event's intent to the lottery here.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from gateway.context import services_of
from lottery import browser_entries

# Real Stripe says a manual-capture authorisation succeeded with amount_capturable_updated.
LOTTERY_EVENTS = {"payment_intent.amount_capturable_updated", "payment_intent.succeeded",
                  "payment_intent.payment_failed", "payment_intent.canceled"}


def _intent_id(payload: bytes) -> str | None:
    try:
        event: Any = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("type") not in LOTTERY_EVENTS:
        return None
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    intent_id = obj.get("id") if isinstance(obj, dict) else None
    return intent_id if isinstance(intent_id, str) else None


async def advance_entry(request: Request, payload: bytes) -> bool:
    """Call only with a payload whose signature was verified. True if it was an entry's."""
    intent_id = _intent_id(payload)
    payments = services_of(request).lottery_payments
    if intent_id is None or payments is None:
        return False
    return await browser_entries.advance_by_intent(
        services_of(request).sessionmaker, payments, intent_id, clock=services_of(request).clock)

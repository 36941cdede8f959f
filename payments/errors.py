"""What Stripe's refusals and failures mean to TicketQ: one mapping, used by every call.

- CardError, InvalidRequestError: Stripe understood and said no (a declined card,
  an unknown or unusable payment method, an intent in the wrong state) ->
  `PaymentDeclined`, an Invalid (422); parts may answer it differently (the lottery
  says 402).
- anything else (network, timeout, 5xx, rate limit, a bad API key) -> `PaymentsUnavailable`,
  a Busy (503 with Retry-After): the fan can do nothing but try again, and the
  operator finds the cause in the log.
"""

from __future__ import annotations

import logging

import stripe

from core.errors import Busy, DomainError, Invalid

log = logging.getLogger("ticketq.payments")

RETRY_AFTER_S = 5


class PaymentDeclined(Invalid):
    """Stripe refused the card or the request (detail says why, in Stripe's words)."""


class PaymentsUnavailable(Busy):
    """Stripe could not be reached or failed; try again shortly."""

    def __init__(self, detail: str = "the payment provider is unavailable; try again",
                 retry_after_s: int = RETRY_AFTER_S, **fields: object) -> None:
        super().__init__(detail, retry_after_s, **fields)


class WebhookRejected(DomainError):
    """Unsigned, badly signed, stale or malformed webhook (400; nothing changes)."""


def domain_error(exc: stripe.StripeError) -> PaymentDeclined | PaymentsUnavailable:
    if isinstance(exc, stripe.CardError | stripe.InvalidRequestError):
        return PaymentDeclined(f"the payment was refused: {exc.user_message or exc}",
                               stripe_code=exc.code)
    log.warning("Stripe call failed: %r", exc)
    return PaymentsUnavailable()

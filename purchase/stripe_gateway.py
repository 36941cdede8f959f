"""Stripe through the official SDK: the only module that talks to Stripe.

Money moves in one call only, `confirm_intent`, and only for an intent whose id the
ledger has already recorded; creating an intent moves nothing. So a crash at any
point leaves either nothing charged or a charge the ledger can find again.
Idempotency keys derive from TicketQ's own ids (hold, payment), so a retried
request never charges twice at Stripe; the ledger's own claims make the same hold
true where Stripe's keys are ignored (localstripe in tests and `make demo`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import stripe

from core.errors import Busy, DomainError, Invalid

log = logging.getLogger("ticketq.purchase.stripe")


class WebhookRejected(DomainError):
    """Unsigned, badly signed, stale or malformed webhook (400; nothing changes)."""


class PaymentDeclined(Invalid):
    """The card was refused (detail says why, in Stripe's words)."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    last_error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def failed(self) -> bool:
        # Stripe sends an intent back to requires_payment_method when a charge fails.
        return self.status in {"requires_payment_method", "canceled"}


def _intent(resource: Any) -> Intent:
    raw = resource.to_dict() if hasattr(resource, "to_dict") else dict(resource)
    error = raw.get("last_payment_error") or {}
    return Intent(
        id=str(raw["id"]), status=str(raw["status"]), amount=int(raw["amount"]),
        currency=str(raw["currency"]).upper(), client_secret=raw.get("client_secret"),
        metadata={str(k): str(v) for k, v in (raw.get("metadata") or {}).items()},
        last_error=(error.get("message") if error else None),
    )


def _unavailable(exc: stripe.StripeError) -> Busy:
    log.warning("Stripe call failed: %r", exc)
    return Busy("the payment provider is unavailable; try again", 5)


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx client, sending encoded bodies as `content` (httpx deprecates `data`
    for raw bytes, and TicketQ treats warnings as errors)."""

    def _get_request_args_kwargs(self, method: str, url: str, headers: Any,
                                 post_data: Any) -> Any:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if isinstance(body, (bytes, str)) and body:
            kwargs["content"] = body
        return [args, kwargs]


class PaymentGateway:
    def __init__(self, api_key: str, *, api_base: str | None = None,
                 webhook_secret: str | None = None, max_network_retries: int = 2) -> None:
        self._http = _HTTPXClient()
        self.client = stripe.StripeClient(
            api_key, base_addresses={"api": api_base} if api_base else None,
            http_client=self._http, max_network_retries=max_network_retries,
        )
        self.webhook_secret = webhook_secret
        # Real Stripe must be told that server-side confirmation never redirects; localstripe
        # rejects that parameter (it knows no automatic payment methods at all).
        self._intent_extras: dict[str, Any] = {}
        if api_base is None or "api.stripe.com" in api_base:
            self._intent_extras = {
                "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create_intent(self, *, amount: int, currency: str, payment_method: str,
                            idempotency_key: str, metadata: dict[str, str]) -> Intent:
        """An unconfirmed card PaymentIntent (automatic capture); charges nothing yet."""
        try:
            raw = await self.client.v1.payment_intents.create_async(
                params={"amount": amount, "currency": currency.lower(),
                        "payment_method": payment_method, "capture_method": "automatic",
                        "metadata": metadata, **self._intent_extras},  # type: ignore[typeddict-item]
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            raise Invalid(f"the payment method was refused: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return _intent(raw)

    async def confirm_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        """Charge the card. A decline is not an exception here: it comes back as the intent."""
        try:
            raw = await self.client.v1.payment_intents.confirm_async(
                intent_id, options={"idempotency_key": idempotency_key})
        except (stripe.CardError, stripe.InvalidRequestError):
            # Declined, or already confirmed by an earlier attempt: the intent says which.
            return await self.retrieve_intent(intent_id)
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc
        return _intent(raw)

    async def retrieve_intent(self, intent_id: str) -> Intent:
        try:
            return _intent(await self.client.v1.payment_intents.retrieve_async(intent_id))
        except stripe.StripeError as exc:
            raise _unavailable(exc) from exc

    async def cancel_intent(self, intent_id: str) -> Intent:
        try:
            return _intent(await self.client.v1.payment_intents.cancel_async(intent_id))
        except stripe.InvalidRequestError:
            return await self.retrieve_intent(intent_id)  # already final: the intent says how

    async def refund(self, intent_id: str, *, idempotency_key: str,
                     metadata: dict[str, str]) -> tuple[str, int]:
        """Refund the whole intent; returns (refund id, amount refunded)."""
        raw = await self.client.v1.refunds.create_async(
            params={"payment_intent": intent_id, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
        return str(raw["id"]), int(raw["amount"])

    async def refunds_of(self, intent_id: str) -> list[tuple[str, int]]:
        raw = await self.client.v1.refunds.list_async(params={"payment_intent": intent_id})
        return [(str(item["id"]), int(item["amount"])) for item in raw.data]

    def verify_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event, if `Stripe-Signature` signs these exact bytes recently enough (5 min)."""
        if not self.webhook_secret:
            raise Busy("webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET)", 30)
        if not signature:
            raise WebhookRejected("missing Stripe-Signature header")
        try:
            event = self.client.construct_event(payload, signature, self.webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"webhook signature rejected: {exc.user_message or exc}") from exc
        except ValueError as exc:
            raise WebhookRejected("webhook body is not a Stripe event") from exc
        data: dict[str, Any] = event.to_dict()
        if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
            raise WebhookRejected("webhook body is not a Stripe event")
        return data

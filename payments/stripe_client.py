"""The one Stripe client: PaymentIntents, refunds and webhook verification over the official SDK.

Purchase (automatic capture, one intent per hold) and the lottery (manual capture:
an authorisation held until the draw) both call it; nothing else talks to Stripe.

- Idempotency keys come from the caller and derive from TicketQ's own ids (hold,
  payment, lottery entry), so a retried request is the same request to Stripe.
  Callers never rely on them alone: localstripe (tests, `make demo`) ignores them,
  so the ledgers' own claims keep a retry from charging twice.
- Creating an intent moves no money; `confirm_intent` charges (or authorises) it;
  `capture_intent` takes held money; `cancel_intent` releases a hold for free.
- Confirm, capture and cancel tolerate having already happened, or being refused:
  Stripe's refusal (a declined card, an intent already captured or cancelled) is
  answered with the intent as it now stands, and its status says what happened.
- Every other Stripe failure is mapped once (payments.errors): a refusal is
  PaymentDeclined (Invalid), an outage PaymentsUnavailable (Busy).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar

import httpx
import stripe

from core.settings import Settings
from payments.errors import PaymentDeclined, PaymentsUnavailable, WebhookRejected, domain_error
from payments.stripe_http import DEFAULT_TIMEOUT, StripeHTTP

T = TypeVar("T")


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


class Refund(NamedTuple):
    id: str
    amount: int


def _intent(resource: Any) -> Intent:
    raw = resource.to_dict() if hasattr(resource, "to_dict") else dict(resource)
    error = raw.get("last_payment_error") or {}
    return Intent(
        id=str(raw["id"]), status=str(raw["status"]), amount=int(raw["amount"]),
        currency=str(raw["currency"]).upper(), client_secret=raw.get("client_secret"),
        metadata={str(k): str(v) for k, v in (raw.get("metadata") or {}).items()},
        last_error=(error.get("message") if error else None),
    )


async def _mapped(call: Awaitable[T]) -> T:
    try:
        return await call
    except stripe.StripeError as exc:
        raise domain_error(exc) from exc


def _is_real_stripe(api_base: str | None) -> bool:
    return api_base is None or "api.stripe.com" in api_base


class StripeClient:
    def __init__(self, api_key: str, *, api_base: str | None = None,
                 webhook_secret: str | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 max_network_retries: int = 2,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = StripeHTTP(timeout=timeout, transport=transport)
        self._sdk = stripe.StripeClient(
            api_key, base_addresses={"api": api_base} if api_base else {},
            http_client=self._http, max_network_retries=max_network_retries,
        )
        self.webhook_secret = webhook_secret
        # Real Stripe must be told that server-side confirmation never redirects; localstripe
        # rejects that parameter (it knows no automatic payment methods at all).
        self._intent_extras: dict[str, Any] = {}
        if _is_real_stripe(api_base):
            self._intent_extras = {
                "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}

    async def aclose(self) -> None:
        await self._http.close_async()

    async def create_intent(self, *, amount: int, currency: str, payment_method: str | None,
                            idempotency_key: str, metadata: dict[str, str],
                            capture: Literal["automatic", "manual"] = "automatic") -> Intent:
        """An unconfirmed card PaymentIntent; charges and holds nothing yet.

        Without a payment method it waits (requires_payment_method) for the fan's browser
        to confirm it with the card typed into Stripe.js Elements, through its client_secret.
        An unknown or unusable payment method raises PaymentDeclined.
        """
        params: Any = {"amount": amount, "currency": currency.lower(),
                       "capture_method": capture, "metadata": metadata, **self._intent_extras}
        if payment_method is not None:
            params["payment_method"] = payment_method
        return _intent(await _mapped(self._sdk.v1.payment_intents.create_async(
            params, {"idempotency_key": idempotency_key})))

    async def retrieve_intent(self, intent_id: str) -> Intent:
        return _intent(await _mapped(self._sdk.v1.payment_intents.retrieve_async(intent_id)))

    async def attach_payment_method(self, intent_id: str, *, payment_method: str) -> Intent:
        """Give an unconfirmed or declined intent a (new) card, keeping the intent.

        Real Stripe then answers requires_confirmation. localstripe keeps an intent whose
        charge failed at requires_payment_method whatever it is given, so the caller must
        check the status (and replace the intent) rather than assume it."""
        return _intent(await _mapped(self._sdk.v1.payment_intents.update_async(
            intent_id, {"payment_method": payment_method})))

    async def confirm_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        """Charge the card (or, with manual capture, authorise it). A decline is not an
        exception: it comes back as the intent (requires_payment_method, last_error)."""
        return await self._final(self._sdk.v1.payment_intents.confirm_async(
            intent_id, None, {"idempotency_key": idempotency_key}), intent_id)

    async def capture_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        """Take an authorised amount: 'succeeded', or the intent's state that prevents it
        (already captured, cancelled, lapsed)."""
        return await self._final(self._sdk.v1.payment_intents.capture_async(
            intent_id, None, {"idempotency_key": idempotency_key}), intent_id)

    async def cancel_intent(self, intent_id: str, *, idempotency_key: str | None = None) -> Intent:
        """Cancel an unpaid intent, releasing any hold for free; an intent that is already
        final comes back as it stands. (Cancelling twice ends the same way, so the key
        is optional.)"""
        options: Any = {"idempotency_key": idempotency_key} if idempotency_key else {}
        return await self._final(
            self._sdk.v1.payment_intents.cancel_async(intent_id, None, options), intent_id)

    async def refund(self, intent_id: str, *, idempotency_key: str,
                     metadata: dict[str, str] | None = None) -> Refund:
        """Refund the whole intent."""
        params: Any = {"payment_intent": intent_id, "metadata": metadata or {}}
        raw = await _mapped(self._sdk.v1.refunds.create_async(
            params, {"idempotency_key": idempotency_key}))
        return Refund(str(raw.id), int(raw.amount))

    async def refunds_of(self, intent_id: str) -> list[Refund]:
        raw = await _mapped(self._sdk.v1.refunds.list_async({"payment_intent": intent_id}))
        return [Refund(str(item.id), int(item.amount)) for item in raw.data]

    def verify_event(self, payload: bytes, signature: str | None) -> dict[str, Any]:
        """The event, if `Stripe-Signature` signs these exact bytes recently enough (5 min)."""
        if not self.webhook_secret:
            raise PaymentsUnavailable(
                "webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET)", 30)
        if not signature:
            raise WebhookRejected("missing Stripe-Signature header")
        try:
            event = self._sdk.construct_event(payload, signature, self.webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"webhook signature rejected: {exc.user_message or exc}") from exc
        except ValueError as exc:
            raise WebhookRejected("webhook body is not a Stripe event") from exc
        data: dict[str, Any] = event.to_dict()
        if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
            raise WebhookRejected("webhook body is not a Stripe event")
        return data

    async def _final(self, call: Awaitable[Any], intent_id: str) -> Intent:
        try:
            return _intent(await _mapped(call))
        except PaymentDeclined:
            # Declined, or already done by an earlier attempt: the intent says which.
            return await self.retrieve_intent(intent_id)


def from_settings(settings: Settings) -> StripeClient | None:
    """The Stripe client this process should use, or None when STRIPE_API_KEY is unset
    (purchase and lottery then answer 503 where they would move money)."""
    if not settings.stripe_api_key:
        return None
    return StripeClient(settings.stripe_api_key, api_base=settings.stripe_api_base,
                        webhook_secret=settings.stripe_webhook_secret)

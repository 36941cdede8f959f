"""Held payments for lottery entries, over the official Stripe SDK.

purchase/ had no shared Stripe client when this was written, so the lottery
keeps its own small one. Every call carries an idempotency key derived from the
entry id and the step (`lottery-entry:<id>:capture`), so a retried step is the
same request to Stripe. Each step also tolerates having already happened (a
second capture, a second cancel): it reads the PaymentIntent and accepts the
state the first attempt left, because servers that ignore idempotency keys
(localstripe) would otherwise answer a retry with an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe
from stripe import RequestOptions

from core.errors import Busy, Invalid

CANCELLABLE = {"requires_payment_method", "requires_confirmation", "requires_action",
               "requires_capture", "processing"}
# A hold in one of these can never be captured: the win is lost, nothing was charged.
CAPTURE_FAILED = {"canceled", "requires_payment_method"}


class AuthorisationDeclined(Invalid):
    """The card did not authorise the amount; no entry was made and nothing is held."""


class PaymentsUnavailable(Busy):
    """Stripe could not be reached or failed; try again shortly."""


@dataclass(frozen=True)
class IntentState:
    id: str
    status: str


def _key(entry_id: str, step: str) -> RequestOptions:
    return {"idempotency_key": f"lottery-entry:{entry_id}:{step}"}


class StripeHTTPXClient(stripe.HTTPXClient):
    """stripe 16 hands httpx its form-encoded body as `data=<str>`, which httpx 0.28
    deprecates (a DeprecationWarning, an error under pytest); send it as `content=`."""

    def _get_request_args_kwargs(  # type: ignore[no-untyped-def]
        self, method: str, url: str, headers: Any, post_data: Any
    ):
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if body:
            kwargs["content"] = body
        return args, kwargs


class HeldPayments:
    def __init__(self, api_key: str, api_base: str | None = None, *, timeout_s: float = 20) -> None:
        addresses: Any = {"api": api_base} if api_base else None
        self._http = StripeHTTPXClient(timeout=timeout_s)
        self._client = stripe.StripeClient(api_key, base_addresses=addresses,
                                           http_client=self._http, max_network_retries=2)

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create_intent(self, *, entry_id: str, drop_id: int, amount_cents: int, currency: str,
                            payment_method: str, capture_now: bool) -> str:
        """An unconfirmed PaymentIntent: nothing is held until `confirm`."""
        params: Any = {
            "amount": amount_cents, "currency": currency.lower(), "payment_method": payment_method,
            "capture_method": "automatic" if capture_now else "manual",
            "metadata": {"lottery_entry_id": entry_id, "drop_id": str(drop_id)},
        }
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params, _key(entry_id, "create"))
        except stripe.InvalidRequestError as exc:
            raise AuthorisationDeclined(
                "this payment method cannot be used; check it or use another card") from exc
        except stripe.StripeError as exc:
            raise PaymentsUnavailable("payments are unavailable right now; try again") from exc
        return str(intent.id)

    async def confirm(self, entry_id: str, intent_id: str) -> str:
        """Authorise (or charge, when capture_now) the card; the resulting status."""
        try:
            intent = await self._client.v1.payment_intents.confirm_async(
                intent_id, None, _key(entry_id, "confirm"))
        except stripe.CardError as exc:
            raise AuthorisationDeclined(
                f"your card was declined ({exc.user_message or exc.code or 'no reason given'}); "
                "nothing is held and you can try another card") from exc
        except stripe.StripeError as exc:
            raise PaymentsUnavailable("payments are unavailable right now; try again") from exc
        return str(intent.status)

    async def state(self, intent_id: str) -> IntentState:
        intent = await self._client.v1.payment_intents.retrieve_async(intent_id)
        return IntentState(str(intent.id), str(intent.status))

    async def capture(self, entry_id: str, intent_id: str) -> str:
        """Capture a held authorisation: 'succeeded', or the terminal status that prevents it.

        A capture that fails while the hold is still capturable (a network error,
        a Stripe outage) raises, so the entry is retried instead of losing its win.
        """
        try:
            intent = await self._client.v1.payment_intents.capture_async(
                intent_id, None, _key(entry_id, "capture"))
            return str(intent.status)
        except stripe.StripeError:
            # Already captured by an attempt that crashed before recording it, or
            # lapsed / cancelled: the intent's state says which.
            status = (await self.state(intent_id)).status
            if status in CAPTURE_FAILED or status == "succeeded":
                return status
            raise

    async def release(self, entry_id: str, intent_id: str, *, held: bool = True) -> str:
        """Give the fan's money back: cancel a hold, refund a charge. 'released' | 'refunded'.

        `held` says what we believe: a hold is cancelled straight away (one round
        trip); only when that fails, or for a charge, is the intent read first.
        """
        if held:
            try:
                await self._client.v1.payment_intents.cancel_async(
                    intent_id, None, _key(entry_id, "cancel"))
                return "released"
            except stripe.StripeError:
                pass  # already cancelled, or captured after all: its state says which
        state = await self.state(intent_id)
        if state.status in CANCELLABLE:
            await self._client.v1.payment_intents.cancel_async(
                intent_id, None, _key(entry_id, "cancel"))
            return "released"
        if state.status == "canceled":
            return "released"
        if state.status == "succeeded":
            # Refund once: a refund made by an attempt that crashed before recording it counts.
            refunds = await self._client.v1.refunds.list_async({"payment_intent": intent_id})
            if not refunds.data:
                await self._client.v1.refunds.create_async(
                    {"payment_intent": intent_id}, _key(entry_id, "refund"))
            return "refunded"
        raise PaymentsUnavailable(f"payment {intent_id} is {state.status}; cannot release it yet")

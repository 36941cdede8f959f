"""Held payments for lottery entries: the lottery's steps over the one Stripe client.

Every step carries an idempotency key derived from the entry id and the step
(`lottery-entry:<id>:capture`), so a retried step is the same request to Stripe.
Each step also tolerates having already happened (a second capture, a second
cancel): the client answers a refusal with the PaymentIntent as it stands, and
the step accepts the state the first attempt left, because servers that ignore
idempotency keys (localstripe) would otherwise answer a retry with an error.

Whoever built the client closes it; this adapter owns no connection.
"""

from __future__ import annotations

from payments.errors import PaymentDeclined, PaymentsUnavailable
from payments.stripe_client import Intent, StripeClient

CANCELLABLE = {"requires_payment_method", "requires_confirmation", "requires_action",
               "requires_capture", "processing"}
# A hold in one of these can never be captured: the win is lost, nothing was charged.
CAPTURE_FAILED = {"canceled", "requires_payment_method"}


class AuthorisationDeclined(PaymentDeclined):
    """The card did not authorise the amount; no entry was made and nothing is held."""


def _key(entry_id: str, step: str) -> str:
    return f"lottery-entry:{entry_id}:{step}"


class HeldPayments:
    def __init__(self, client: StripeClient) -> None:
        self.client = client

    async def create_intent(self, *, entry_id: str, drop_id: int, amount_cents: int, currency: str,
                            payment_method: str | None, capture_now: bool) -> str:
        """An unconfirmed PaymentIntent: nothing is held until `confirm`."""
        return (await self.new_intent(
            entry_id=entry_id, drop_id=drop_id, amount_cents=amount_cents, currency=currency,
            payment_method=payment_method, capture_now=capture_now, step="create")).id

    async def new_intent(self, *, entry_id: str, drop_id: int, amount_cents: int, currency: str,
                         payment_method: str | None, capture_now: bool, step: str) -> Intent:
        """The intent itself (its client_secret too). Without a payment method it waits
        (requires_payment_method) for the fan's browser to confirm it with Stripe.js.
        `step` names the attempt: 'create' for the first, another for a replacement."""
        return await self.client.create_intent(
            amount=amount_cents, currency=currency, payment_method=payment_method,
            capture="automatic" if capture_now else "manual",
            metadata={"lottery_entry_id": entry_id, "drop_id": str(drop_id)},
            idempotency_key=_key(entry_id, step))

    async def confirm(self, entry_id: str, intent_id: str, *, step: str = "confirm") -> Intent:
        """Authorise (or charge, when capture_now) the card; a decline comes back as the
        intent (requires_payment_method, with Stripe's reason in last_error). A confirm
        after the fan gave another card needs its own `step`, or Stripe would answer the
        retry with the first (declined) confirmation."""
        return await self.client.confirm_intent(intent_id,
                                                idempotency_key=_key(entry_id, step))

    async def attach(self, intent_id: str, payment_method: str) -> Intent:
        """Give a waiting or declined intent the fan's (new) card."""
        return await self.client.attach_payment_method(intent_id, payment_method=payment_method)

    async def cancel(self, entry_id: str, intent_id: str) -> Intent:
        key = _key(entry_id, f"cancel-{intent_id}")
        return await self.client.cancel_intent(intent_id, idempotency_key=key)

    async def state(self, intent_id: str) -> Intent:
        return await self.client.retrieve_intent(intent_id)

    async def capture(self, entry_id: str, intent_id: str) -> str:
        """Capture a held authorisation: 'succeeded', or the status that prevents it.

        A capture that fails while the hold is still capturable (a network error,
        a Stripe outage) raises, so the entry is retried instead of losing its win.
        """
        intent = await self.client.capture_intent(intent_id,
                                                  idempotency_key=_key(entry_id, "capture"))
        return intent.status

    async def release(self, entry_id: str, intent_id: str, *, held: bool = True) -> str:
        """Give the fan's money back: cancel a hold, refund a charge. 'released' | 'refunded'.

        `held` says what we believe: a hold is cancelled straight away (one round
        trip); only for a charge is the intent read first.
        """
        cancel_key = _key(entry_id, "cancel")
        intent = await (self.client.cancel_intent(intent_id, idempotency_key=cancel_key) if held
                        else self.client.retrieve_intent(intent_id))
        if intent.status in CANCELLABLE:
            intent = await self.client.cancel_intent(intent_id, idempotency_key=cancel_key)
        if intent.status == "canceled":
            return "released"
        if intent.status == "succeeded":
            # Refund once: a refund made by an attempt that crashed before recording it counts.
            if not await self.client.refunds_of(intent_id):
                await self.client.refund(intent_id, idempotency_key=_key(entry_id, "refund"))
            return "refunded"
        raise PaymentsUnavailable(f"payment {intent_id} is {intent.status}; cannot release it yet")

"""The one Stripe client against a real localstripe: intents, captures, refunds, webhooks,
and the one mapping of Stripe's refusals and outages to domain errors."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import stripe

from core.embedded import free_port
from core.errors import Busy, Invalid
from core.settings import Settings
from payments.errors import PaymentDeclined, PaymentsUnavailable, WebhookRejected
from payments.stripe_client import Intent, StripeClient, from_settings

SECRET = "whsec_payments_tests"


@pytest.fixture
async def client(localstripe_url: str) -> AsyncIterator[StripeClient]:
    stripe_client = StripeClient("sk_test_payments", api_base=localstripe_url,
                                 webhook_secret=SECRET)
    yield stripe_client
    await stripe_client.aclose()


def key(step: str) -> str:
    return f"test-{uuid.uuid4()}-{step}"


async def held_intent(client: StripeClient) -> Intent:
    """An authorisation held on pm_card_visa (manual capture), as a lottery entry makes."""
    created = await client.create_intent(amount=5000, currency="EUR",
                                         payment_method="pm_card_visa", capture="manual",
                                         idempotency_key=key("create"), metadata={})
    held = await client.confirm_intent(created.id, idempotency_key=key("confirm"))
    assert held.status == "requires_capture"
    return held


async def test_automatic_capture_charges_on_confirm_and_refunds_once(
    client: StripeClient,
) -> None:
    created = await client.create_intent(amount=2500, currency="EUR",
                                         payment_method="pm_card_visa",
                                         idempotency_key=key("create"), metadata={"order": "o1"})
    assert (created.status, created.amount, created.currency) == (
        "requires_confirmation", 2500, "EUR")
    assert created.metadata == {"order": "o1"} and created.client_secret
    paid = await client.confirm_intent(created.id, idempotency_key=key("confirm"))
    assert paid.succeeded
    assert (await client.retrieve_intent(created.id)).status == "succeeded"
    assert await client.refunds_of(created.id) == []
    refund = await client.refund(created.id, idempotency_key=key("refund"),
                                 metadata={"reason": "test"})
    assert refund.amount == 2500
    assert await client.refunds_of(created.id) == [refund]


async def test_manual_capture_holds_then_captures_and_tolerates_repeats(
    client: StripeClient,
) -> None:
    created = await held_intent(client)
    assert (await client.capture_intent(created.id, idempotency_key=key("c"))).succeeded
    # A second capture (a retry after a crash) is refused by Stripe: the intent says it happened.
    assert (await client.capture_intent(created.id, idempotency_key=key("c2"))).succeeded


async def test_cancel_releases_a_hold_and_a_second_cancel_reads_it_back(
    client: StripeClient,
) -> None:
    created = await held_intent(client)
    assert (await client.cancel_intent(created.id, idempotency_key=key("x"))).status == "canceled"
    assert (await client.cancel_intent(created.id)).status == "canceled"
    # Nothing left to capture: the capture answers with the state that prevents it.
    assert (await client.capture_intent(created.id, idempotency_key=key("c"))).failed


async def test_a_declined_card_comes_back_as_the_intent_with_stripes_reason(
    client: StripeClient,
) -> None:
    created = await client.create_intent(amount=2500, currency="EUR",
                                         payment_method="pm_card_chargeCustomerFail",
                                         idempotency_key=key("create"), metadata={})
    declined = await client.confirm_intent(created.id, idempotency_key=key("confirm"))
    assert declined.failed and declined.last_error


async def test_an_unknown_payment_method_is_declined_as_invalid(client: StripeClient) -> None:
    with pytest.raises(PaymentDeclined) as refused:
        await client.create_intent(amount=2500, currency="EUR", payment_method="pm_nope",
                                   idempotency_key=key("create"), metadata={})
    assert isinstance(refused.value, Invalid)
    assert "refused" in refused.value.detail


async def test_stripe_unreachable_is_busy() -> None:
    nowhere = StripeClient("sk_test_payments", api_base=f"http://127.0.0.1:{free_port()}",
                           max_network_retries=0)
    try:
        with pytest.raises(PaymentsUnavailable) as unavailable:
            await nowhere.retrieve_intent("pi_123")
        assert isinstance(unavailable.value, Busy) and unavailable.value.retry_after_s > 0
        with pytest.raises(PaymentsUnavailable):
            await nowhere.create_intent(amount=1, currency="EUR", payment_method="pm_card_visa",
                                        idempotency_key=key("create"), metadata={})
    finally:
        await nowhere.aclose()


def signed(payload: dict[str, object], secret: str = SECRET) -> tuple[bytes, str]:
    body = json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=int(time.time()))
    return body.encode(), header


async def test_webhooks_are_verified_on_the_raw_body(client: StripeClient) -> None:
    body, header = signed({"id": "evt_1", "type": "payment_intent.succeeded", "object": "event",
                           "data": {"object": {"id": "pi_1"}}})
    event = client.verify_event(body, header)
    assert (event["id"], event["type"]) == ("evt_1", "payment_intent.succeeded")
    for payload, signature in [
        (body, None),  # unsigned
        (body.replace(b"evt_1", b"evt_2"), header),  # tampered
        (*signed({"id": "evt_1", "type": "x"}, secret="whsec_other"),),  # someone else's
        (*signed({"no": "id"}),),  # signed, but not an event
    ]:
        with pytest.raises(WebhookRejected):
            client.verify_event(payload, signature)


async def test_webhooks_need_a_secret(localstripe_url: str) -> None:
    unconfigured = StripeClient("sk_test_payments", api_base=localstripe_url)
    try:
        with pytest.raises(Busy):
            unconfigured.verify_event(*signed({"id": "evt_1", "type": "x"}))
    finally:
        await unconfigured.aclose()


async def test_from_settings_builds_one_client_only_when_a_key_is_set(
    settings: Settings, localstripe_url: str,
) -> None:
    assert from_settings(settings.replace(stripe_api_key=None)) is None
    built = from_settings(settings.replace(stripe_api_key="sk_test_payments",
                                    stripe_api_base=localstripe_url,
                                    stripe_webhook_secret=SECRET))
    assert built is not None and built.webhook_secret == SECRET
    try:
        intent = await built.create_intent(amount=100, currency="EUR",
                                           payment_method="pm_card_visa",
                                           idempotency_key=key("create"), metadata={})
        assert (await built.retrieve_intent(intent.id)).id == intent.id  # it reached localstripe
    finally:
        await built.aclose()


async def test_an_intent_without_a_card_waits_and_takes_one_later(client: StripeClient) -> None:
    created = await client.create_intent(amount=1200, currency="EUR", payment_method=None,
                                         idempotency_key=key("create"), metadata={})
    assert created.status == "requires_payment_method" and created.client_secret
    given = await client.attach_payment_method(created.id, payment_method="pm_card_visa")
    assert given.status == "requires_confirmation"
    assert (await client.confirm_intent(created.id, idempotency_key=key("confirm"))).succeeded


async def test_localstripe_keeps_a_declined_intent_unconfirmable(client: StripeClient) -> None:
    """Why checkout replaces a declined intent offline (real Stripe would take the new card)."""
    created = await client.create_intent(amount=1200, currency="EUR",
                                         payment_method="pm_card_chargeCustomerFail",
                                         idempotency_key=key("create"), metadata={})
    declined = await client.confirm_intent(created.id, idempotency_key=key("confirm"))
    assert declined.status == "requires_payment_method" and "declined" in (
        declined.last_error or "")
    again = await client.attach_payment_method(created.id, payment_method="pm_card_visa")
    assert again.status == "requires_payment_method"
    assert (await client.cancel_intent(created.id)).status == "canceled"

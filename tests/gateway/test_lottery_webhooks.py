"""Stripe's signed webhook finishes a browser-confirmed lottery entry, once, against real
Postgres and a real localstripe (the event is signed here as Stripe would sign it)."""

from __future__ import annotations

import json
import time

import stripe
from sqlalchemy import select

from core.settings import Settings
from gateway.context import app_services
from lottery.models import LotteryEntry
from mail.models import OutboxMessage
from tests.lottery.conftest import make_lottery, stripe_client, stripe_settings  # noqa: F401 (fixtures)
from tests.support.api import sign_up
from tests.support.apps import api_client, running_app

SECRET = "whsec_lottery_tests"


def _signed(intent_id: str, event_id: str, kind: str) -> tuple[bytes, str]:
    body = json.dumps({"id": event_id, "object": "event", "type": kind,
                       "api_version": "2024-06-20", "created": int(time.time()),
                       "livemode": False,
                       "data": {"object": {"id": intent_id, "object": "payment_intent"}}})
    return body.encode(), stripe.WebhookSignature.generate_signature_header(
        body, SECRET, timestamp=int(time.time()))


async def test_the_webhook_enters_a_browser_confirmed_entry_once(
    stripe_settings: Settings, stripe_client: stripe.StripeClient,  # noqa: F811
) -> None:
    async with running_app(stripe_settings.replace(stripe_webhook_secret=SECRET)) as app, \
            api_client(app) as api:
        db = app_services(app).sessionmaker
        lottery = await make_lottery(api)
        fan = await sign_up(api, "fan")
        started = await api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers,
                                 json={"tier_id": lottery.ga, "quantity": 1})
        assert started.status_code == 202, started.text
        intent_id = started.json()["client_secret"].split("_secret_")[0]
        kind = "payment_intent.amount_capturable_updated"
        # An event before the card is authorised changes nothing (Stripe is asked, not the body).
        early, early_sig = _signed(intent_id, f"evt_early_{intent_id}", kind)
        await api.post("/webhooks/stripe", content=early, headers={
            "content-type": "application/json", "stripe-signature": early_sig})
        async with db() as session:
            assert (await session.scalar(select(LotteryEntry.status).where(
                LotteryEntry.payment_intent_id == intent_id))) == "confirming"
        # The browser confirms (stripe.confirmCardPayment); the page is closed before it polls.
        await stripe_client.v1.payment_intents.update_async(intent_id,
                                                           {"payment_method": "pm_card_visa"})
        await stripe_client.v1.payment_intents.confirm_async(intent_id)
        body, signature = _signed(intent_id, f"evt_{intent_id}", kind)
        headers = {"content-type": "application/json", "stripe-signature": signature}
        handled = await api.post("/webhooks/stripe", content=body, headers=headers)
        assert handled.json()["outcome"] == "handled", handled.text
        async with db() as session:  # entered by the webhook itself, before any poll
            assert (await session.scalar(select(LotteryEntry.status).where(
                LotteryEntry.payment_intent_id == intent_id))) == "entered"
        replay = await api.post("/webhooks/stripe", content=body, headers=headers)
        assert replay.json()["outcome"] == "duplicate"
        forged = await api.post("/webhooks/stripe", content=body, headers={
            "content-type": "application/json", "stripe-signature": "t=1,v1=00"})
        assert forged.status_code == 400
        mine = await api.get(f"/api/drops/{lottery.drop_id}/entries/mine", headers=fan.headers)
        assert mine.status_code == 200 and mine.json()["status"] == "entered"
        async with db() as session:
            [row] = list(await session.scalars(select(LotteryEntry).where(
                LotteryEntry.drop_id == lottery.drop_id)))
            mails = list(await session.scalars(select(OutboxMessage).where(
                OutboxMessage.dedupe_key == f"lottery_entry_received:{row.id}")))
        assert row.status == "entered" and row.money == "authorised" and len(mails) == 1

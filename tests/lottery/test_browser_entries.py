"""Entries confirmed in the fan's browser (Stripe.js, 3-D Secure), against real Postgres and a
real localstripe. Where the page would call stripe.confirmCardPayment, the test confirms the
intent the same way with the secret key (localstripe refuses a publishable key there)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import stripe
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lottery.entries import sweep_abandoned
from lottery.models import LotteryEntry
from lottery.payments import HeldPayments
from mail.models import OutboxMessage
from tests.lottery.conftest import make_lottery, times
from tests.support.api import sign_up


async def rows(db: async_sessionmaker[AsyncSession], drop_id: int) -> list[LotteryEntry]:
    async with db() as session:
        return list(await session.scalars(
            select(LotteryEntry).where(LotteryEntry.drop_id == drop_id)))


async def received_mails(db: async_sessionmaker[AsyncSession], entry_id: str) -> int:
    async with db() as session:
        return len(list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"lottery_entry_received:{entry_id}"))))


def intent_id_of(secret: str) -> str:
    return secret.split("_secret_")[0]


async def test_without_a_payment_method_the_browser_gets_a_secret_and_the_poll_enters_once(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession],
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api, price_cents=4200)
    fan = await sign_up(api, "fan")
    url = f"/api/drops/{lottery.drop_id}/entries"
    started = await api.post(url, headers=fan.headers, json={"tier_id": lottery.ga,
                                                             "quantity": 2})
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["status"] == "confirming" and body["payment_status"] == "requires_payment_method"
    intent_id = intent_id_of(body["client_secret"])
    intent = await stripe_client.v1.payment_intents.retrieve_async(intent_id)
    # The server decided the amount and the manual capture; the browser only confirms.
    assert intent.amount == 8400 and intent.capture_method == "manual"
    assert intent.metadata["lottery_entry_id"] == body["id"]
    assert [row.status for row in await rows(db, lottery.drop_id)] == ["confirming"]
    assert (await api.get("/api/me/entries", headers=fan.headers)).json()["entries"] == []
    # Asking again hands back the same intent, not a second one.
    again = await api.post(url, headers=fan.headers, json={"tier_id": lottery.ga, "quantity": 2})
    assert again.status_code == 202 and again.json()["client_secret"] == body["client_secret"]
    mine = f"{url}/mine"
    assert (await api.get(mine, headers=fan.headers)).status_code == 202
    # What stripe.confirmCardPayment does from the page (localstripe takes the card in an
    # update, then a plain confirm):
    await stripe_client.v1.payment_intents.update_async(intent_id,
                                                       {"payment_method": "pm_card_visa"})
    await stripe_client.v1.payment_intents.confirm_async(intent_id)
    polled = [await api.get(mine, headers=fan.headers) for _ in range(3)]
    assert [response.status_code for response in polled] == [200, 200, 200]
    assert polled[0].json()["status"] == "entered" and polled[0].json()["money"] == "authorised"
    [row] = await rows(db, lottery.drop_id)
    assert row.status == "entered" and row.payment_intent_id == intent_id
    assert await received_mails(db, row.id) == 1
    listed = (await api.get("/api/me/entries", headers=fan.headers)).json()["entries"]
    assert [entry["id"] for entry in listed] == [row.id]


async def test_a_declined_card_then_a_good_one_gives_one_entry_and_one_authorisation(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession],
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api)
    fan = await sign_up(api, "fan")
    url = f"/api/drops/{lottery.drop_id}/entries"
    base = {"tier_id": lottery.ga, "quantity": 1, "confirm_in_browser": True}
    started = await api.post(url, headers=fan.headers, json=base)
    assert started.status_code == 202
    first_intent = intent_id_of(started.json()["client_secret"])
    declined = await api.post(url, headers=fan.headers,
                              json={**base, "payment_method": "pm_card_chargeCustomerFail"})
    assert declined.status_code == 402, declined.text
    assert declined.headers["content-type"] == "application/problem+json"
    # The entry stays open for another card.
    assert [row.status for row in await rows(db, lottery.drop_id)] == ["confirming"]
    entered = await api.post(url, headers=fan.headers,
                             json={**base, "payment_method": "pm_card_visa"})
    assert entered.status_code == 201, entered.text
    [row] = await rows(db, lottery.drop_id)
    assert row.status == "entered" and row.money == "authorised"
    assert await received_mails(db, row.id) == 1
    intents = {first_intent, row.payment_intent_id}
    statuses = [(await stripe_client.v1.payment_intents.retrieve_async(i)).status
                for i in intents if i is not None]
    assert statuses.count("requires_capture") == 1
    assert set(statuses) <= {"requires_capture", "canceled"}


async def test_a_three_d_secure_card_waits_for_the_browser_instead_of_a_402(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession],
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api)
    fan = await sign_up(api, "fan")
    method = await stripe_client.v1.payment_methods.create_async({
        "type": "card", "card": {"number": "4000002500003155", "exp_month": 12,
                                 "exp_year": 2030, "cvc": "123"}})
    answer = await api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers, json={
        "tier_id": lottery.ga, "quantity": 1, "payment_method": method.id,
        "confirm_in_browser": True})
    assert answer.status_code == 202, answer.text
    assert answer.json()["payment_status"] == "requires_action"
    assert answer.json()["client_secret"]
    [row] = await rows(db, lottery.drop_id)
    assert row.status == "confirming" and row.money == "none"


async def test_a_browser_attempt_is_released_when_the_window_closes(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api)
    fan = await sign_up(api, "fan")
    started = await api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers,
                             json={"tier_id": lottery.ga, "quantity": 1})
    intent_id = intent_id_of(started.json()["client_secret"])
    closes_at, _ = await times(db, lottery.drop_id)
    # Still open: the fan may take their time.
    assert await sweep_abandoned(db, payments, now=closes_at - timedelta(minutes=30)) == 0
    assert len(await rows(db, lottery.drop_id)) == 1
    assert await sweep_abandoned(db, payments, now=closes_at + timedelta(seconds=1)) >= 1
    assert await rows(db, lottery.drop_id) == []
    intent = await stripe_client.v1.payment_intents.retrieve_async(intent_id)
    assert intent.status == "canceled"


async def test_bad_browser_entries_are_4xx_and_change_nothing(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession],
) -> None:
    lottery = await make_lottery(api, max_quantity=2)
    fan = await sign_up(api, "fan")
    url = f"/api/drops/{lottery.drop_id}/entries"
    cases = [
        {"tier_id": lottery.ga, "quantity": 3},
        {"tier_id": lottery.ga, "quantity": 1, "confirm_in_browser": "yes"},
        {"tier_id": lottery.ga, "quantity": 1, "payment_method": "pm card",
         "confirm_in_browser": True},
        {"tier_id": lottery.ga, "quantity": 1, "client_secret": "pi_x_secret_y"},
        {"quantity": 1},
    ]
    for body in cases:
        response = await api.post(url, headers=fan.headers, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await api.post(url, json={"tier_id": lottery.ga, "quantity": 1})).status_code == 401
    assert (await api.get(f"{url}/mine", headers=fan.headers)).status_code == 404
    assert (await api.get(f"{url}/mine")).status_code == 401
    assert (await api.get("/api/drops/999999/entries/mine",
                          headers=fan.headers)).status_code == 404
    assert await rows(db, lottery.drop_id) == []

"""Configuring a lottery and entering it, against real Postgres and a real localstripe."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
import stripe
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from accounts.tokens import TokenSigner
from accounts.verification import VerifyTokens
from core.models import User
from core.settings import Settings
from gateway.context import app_services
from lottery import lifecycle
from lottery.entries import EntryWindowClosed, enter_lottery
from lottery.models import LotteryEntry
from lottery.payments import HeldPayments
from payments.stripe_client import Intent
from tests.lottery.conftest import make_fans, make_lottery, now, times
from tests.support.api import create_drop_setup, sign_up


async def entry_rows(db: async_sessionmaker[AsyncSession], drop_id: int) -> list[LotteryEntry]:
    async with db() as session:
        return list(await session.scalars(
            select(LotteryEntry).where(LotteryEntry.drop_id == drop_id)))


async def test_configuring_publishes_a_commitment_and_says_how_money_is_held(
    api: httpx.AsyncClient,
) -> None:
    lottery = await make_lottery(api)
    assert len(lottery.config["commitment"]) == 64
    assert lottery.config["capture_mode"] == "authorise"
    assert "hold" in lottery.config["capture_note"]
    public = (await api.get(f"/api/drops/{lottery.drop_id}/lottery")).json()
    assert public["commitment"] == lottery.config["commitment"]
    draw = (await api.get(f"/api/drops/{lottery.drop_id}/draw")).json()
    assert draw["seed"] is None and draw["entries"] is None and draw["winners"] is None
    # Reconfiguring keeps the same seed.
    again = await api.put(f"/api/drops/{lottery.drop_id}/lottery",
                          headers=lottery.setup.admin.headers,
                          json={"draw_at": lottery.config["draw_at"], "max_quantity_per_entry": 3})
    assert again.status_code == 200
    assert again.json()["commitment"] == lottery.config["commitment"]


async def test_a_draw_after_authorisations_lapse_is_refused_or_switches_to_capture_now(
    api: httpx.AsyncClient,
) -> None:
    setup = await create_drop_setup(api, mode="lottery", open_for=timedelta(days=1))
    late = (now() + timedelta(days=7)).isoformat()
    refused = await api.put(f"/api/drops/{setup.drop_id}/lottery", headers=setup.admin.headers,
                            json={"draw_at": late, "max_quantity_per_entry": 2})
    assert refused.status_code == 422
    assert "allow_capture_now" in refused.json()["detail"]
    switched = await api.put(f"/api/drops/{setup.drop_id}/lottery", headers=setup.admin.headers,
                             json={"draw_at": late, "max_quantity_per_entry": 2,
                                   "allow_capture_now": True})
    assert switched.status_code == 200
    assert switched.json()["capture_mode"] == "capture_now"
    assert "refunded" in switched.json()["capture_note"]


async def test_configuration_is_for_this_venues_admins_and_lottery_drops_only(
    api: httpx.AsyncClient,
) -> None:
    lottery = await make_lottery(api)
    fan = await sign_up(api, "fan")
    body = {"draw_at": lottery.config["draw_at"], "max_quantity_per_entry": 2}
    url = f"/api/drops/{lottery.drop_id}/lottery"
    assert (await api.put(url, json=body, headers=fan.headers)).status_code == 403
    assert (await api.put(url, json=body)).status_code == 401
    direct = await create_drop_setup(api, mode="direct")
    response = await api.put(f"/api/drops/{direct.drop_id}/lottery", json=body,
                             headers=direct.admin.headers)
    assert response.status_code == 409
    early = {"draw_at": (now() - timedelta(hours=1)).isoformat(), "max_quantity_per_entry": 2}
    assert (await api.put(url, json=early, headers=lottery.setup.admin.headers)).status_code == 422
    for junk in ({"draw_at": "tomorrow", "max_quantity_per_entry": 2},
                 {"draw_at": lottery.config["draw_at"], "max_quantity_per_entry": "2"},
                 {"draw_at": lottery.config["draw_at"], "max_quantity_per_entry": 2, "x": 1}):
        response = await api.put(url, json=junk, headers=lottery.setup.admin.headers)
        assert response.status_code == 422, junk
        assert response.headers["content-type"] == "application/problem+json"
    assert (await api.put("/api/drops/999999/lottery", json=body,
                          headers=lottery.setup.admin.headers)).status_code == 404


async def test_entering_holds_the_price_and_shows_in_my_entries(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession],
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api, price_cents=4200)
    fan = await sign_up(api, "fan")
    response = await api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers,
                              json={"tier_id": lottery.ga, "quantity": 2,
                                    "payment_method": "pm_card_visa"})
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["status"] == "entered" and entry["money"] == "authorised"
    assert entry["amount_cents"] == 8400
    mine = (await api.get("/api/me/entries", headers=fan.headers)).json()["entries"]
    assert [e["id"] for e in mine] == [entry["id"]]
    assert mine[0]["money_note"] == "held on your card, not charged"
    draw = (await api.get(f"/api/drops/{lottery.drop_id}/draw")).json()
    assert draw["entries"] is None  # the entry list is published only at close
    [row] = await entry_rows(db, lottery.drop_id)
    intent = await stripe_client.v1.payment_intents.retrieve_async(row.payment_intent_id)
    assert intent.status == "requires_capture"
    assert intent.amount == 8400 and intent.capture_method == "manual"
    assert intent.metadata["lottery_entry_id"] == entry["id"]


async def test_one_entry_per_fan_even_under_concurrent_requests(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession],
) -> None:
    lottery = await make_lottery(api)
    fan = await sign_up(api, "fan")
    body = {"tier_id": lottery.ga, "quantity": 1, "payment_method": "pm_card_visa"}
    responses = await asyncio.gather(*(
        api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers, json=body)
        for _ in range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 11, [r.text for r in responses]
    rows = await entry_rows(db, lottery.drop_id)
    assert len(rows) == 1 and rows[0].status == "entered"
    again = await api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers, json=body)
    assert again.status_code == 409
    assert again.json()["entry_id"] == rows[0].id


async def test_a_declined_authorisation_never_becomes_an_entry(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession],
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api)
    fan = await sign_up(api, "fan")
    url = f"/api/drops/{lottery.drop_id}/entries"
    for method in ("pm_card_chargeCustomerFail", "pm_does_not_exist"):
        declined = await api.post(url, headers=fan.headers, json={
            "tier_id": lottery.ga, "quantity": 1, "payment_method": method})
        assert declined.status_code == 402, declined.text
        assert declined.headers["content-type"] == "application/problem+json"
        assert await entry_rows(db, lottery.drop_id) == []
    assert (await api.get("/api/me/entries", headers=fan.headers)).json()["entries"] == []
    # A card that needs 3-D Secure cannot be held unattended: refused, its intent cancelled.
    method = await stripe_client.v1.payment_methods.create_async({
        "type": "card", "card": {"number": "4000002500003155", "exp_month": 12,
                                 "exp_year": 2030, "cvc": "123"}})
    needs_action = await api.post(url, headers=fan.headers, json={
        "tier_id": lottery.ga, "quantity": 1, "payment_method": method.id})
    assert needs_action.status_code == 402
    assert await entry_rows(db, lottery.drop_id) == []
    # The fan can still enter with a working card.
    ok = await api.post(url, headers=fan.headers, json={
        "tier_id": lottery.ga, "quantity": 1, "payment_method": "pm_card_visa"})
    assert ok.status_code == 201, ok.text
    assert [row.status for row in await entry_rows(db, lottery.drop_id)] == ["entered"]


async def test_bad_entries_are_refused_with_a_clear_problem(api: httpx.AsyncClient) -> None:
    lottery = await make_lottery(api, max_quantity=2)
    fan = await sign_up(api, "fan")
    url = f"/api/drops/{lottery.drop_id}/entries"
    cases = [
        ({"tier_id": lottery.ga, "quantity": 3, "payment_method": "pm_card_visa"}, 422),
        ({"tier_id": 999999, "quantity": 1, "payment_method": "pm_card_visa"}, 422),
        ({"tier_id": lottery.ga, "quantity": "1", "payment_method": "pm_card_visa"}, 422),
        ({"tier_id": lottery.ga, "quantity": 1, "payment_method": "pm card"}, 422),
        # No payment_method is a browser-confirmed entry now (test_browser_entries.py).
        ({"tier_id": lottery.ga, "payment_method": "pm_card_visa"}, 422),
    ]
    for body, status in cases:
        response = await api.post(url, headers=fan.headers, json=body)
        assert response.status_code == status, (body, response.text)
    assert (await api.post(url, json=cases[0][0])).status_code == 401
    assert (await api.post(url, headers={"Authorization": "Bearer forged"},
                           json=cases[0][0])).status_code == 401
    assert (await api.post("/api/drops/999999/entries", headers=fan.headers, json={
        "tier_id": lottery.ga, "quantity": 1, "payment_method": "pm_card_visa"})).status_code == 404
    assert (await api.post("/api/drops/abc/entries", headers=fan.headers,
                           json=cases[0][0])).status_code == 404
    assert (await api.get("/api/me/entries", headers=fan.headers)).json()["entries"] == []


async def test_entries_only_while_the_window_is_open(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession],
) -> None:
    fan = await sign_up(api, "fan")
    early = await create_drop_setup(api, mode="lottery", opens_in=timedelta(hours=1))
    closes = (now() + timedelta(hours=4)).isoformat()
    configured = await api.put(f"/api/drops/{early.drop_id}/lottery", headers=early.admin.headers,
                               json={"draw_at": closes, "max_quantity_per_entry": 1})
    assert configured.status_code == 200, configured.text
    body = {"tier_id": early.tier_ids["GA"], "quantity": 1, "payment_method": "pm_card_visa"}
    response = await api.post(f"/api/drops/{early.drop_id}/entries", headers=fan.headers,
                              json=body)
    assert response.status_code == 409
    assert "not open" in response.json()["detail"]
    unconfigured = await create_drop_setup(api, mode="lottery")
    response = await api.post(f"/api/drops/{unconfigured.drop_id}/entries", headers=fan.headers,
                              json={**body, "tier_id": unconfigured.tier_ids["GA"]})
    assert response.status_code == 409
    # Once sealed, the list is frozen: no more entries, no more configuration.
    lottery = await make_lottery(api)
    closes_at, _ = await times(db, lottery.drop_id)
    async with db() as session:
        assert await lifecycle.seal(session, lottery.drop_id, closes_at + timedelta(seconds=1))
    response = await api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers,
                              json={**body, "tier_id": lottery.ga})
    assert response.status_code == 409
    response = await api.put(f"/api/drops/{lottery.drop_id}/lottery",
                             headers=lottery.setup.admin.headers,
                             json={"draw_at": lottery.config["draw_at"],
                                   "max_quantity_per_entry": 2})
    assert response.status_code == 409
    async with db() as session:
        count = await session.scalar(select(func.count()).select_from(LotteryEntry).where(
            LotteryEntry.drop_id == lottery.drop_id))
    assert count == 0


async def test_a_token_whose_account_is_gone_is_a_401_not_a_500(
    api: httpx.AsyncClient, stripe_settings: Settings,
) -> None:
    lottery = await make_lottery(api)
    token = TokenSigner(stripe_settings.secret_key, 3600).issue(987_654_321)
    response = await api.post(f"/api/drops/{lottery.drop_id}/entries",
                              headers={"Authorization": f"Bearer {token}"},
                              json={"tier_id": lottery.ga, "quantity": 1,
                                    "payment_method": "pm_card_visa"})
    assert response.status_code == 401, response.text


class SlowConfirm:
    """Real payments whose confirm waits for the test: the window can close mid-authorisation."""

    def __init__(self, payments: HeldPayments) -> None:
        self.payments = payments
        self.reached = asyncio.Event()
        self.proceed = asyncio.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.payments, name)

    async def confirm(self, entry_id: str, intent_id: str) -> Intent:
        self.reached.set()
        await self.proceed.wait()
        return await self.payments.confirm(entry_id, intent_id)


async def test_an_authorisation_that_finishes_after_the_seal_is_released_not_entered(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api)
    [fan] = await make_fans(db, 1)
    slow = SlowConfirm(payments)
    entering = asyncio.create_task(enter_lottery(
        db, slow, user_id=fan, drop_id=lottery.drop_id, tier_id=lottery.ga,  # type: ignore[arg-type]
        quantity=1, payment_method="pm_card_visa", clock=now))
    await slow.reached.wait()
    [attempt] = await entry_rows(db, lottery.drop_id)
    assert attempt.status == "authorising" and attempt.payment_intent_id
    closes_at, _ = await times(db, lottery.drop_id)
    async with db() as session:
        assert await lifecycle.seal(session, lottery.drop_id, closes_at + timedelta(seconds=1))
    slow.proceed.set()
    with pytest.raises(EntryWindowClosed):
        await entering
    assert await entry_rows(db, lottery.drop_id) == []
    intent = await stripe_client.v1.payment_intents.retrieve_async(attempt.payment_intent_id)
    assert intent.status == "canceled"
    draw = (await api.get(f"/api/drops/{lottery.drop_id}/draw")).json()
    assert draw["entries_count"] == 0 and draw["entries"] == []


async def test_a_verified_only_lottery_takes_entries_from_verified_accounts_only(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], lottery_app: Starlette,
) -> None:
    lottery = await make_lottery(api)
    flagged = await api.patch(f"/api/drops/{lottery.drop_id}", headers=lottery.setup.admin.headers,
                              json={"requires_verified_email": True})
    assert flagged.status_code == 200 and flagged.json()["requires_verified_email"] is True
    fan = await sign_up(api, "fan")
    entry = {"tier_id": lottery.ga, "quantity": 1, "payment_method": "pm_card_visa"}
    refused = await api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers,
                             json=entry)
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"].startswith("Verify your email address to enter this lottery")
    assert await entry_rows(db, lottery.drop_id) == []
    async with db() as session:
        user = await session.get(User, fan.id)
        assert user is not None
        token = VerifyTokens.from_settings(app_services(lottery_app).settings).issue(user)
    assert (await api.post("/api/auth/verify-email", json={"token": token})).status_code == 200
    entered = await api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers,
                             json=entry)
    assert entered.status_code == 201, entered.text

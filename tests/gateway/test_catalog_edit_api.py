"""PATCH /api/events/{id}, GET /api/events/{id}/tiers, PATCH /api/events/{id}/tiers/{tier_id}.

Real sales through localstripe: the price locks after a sale, capacity never drops below
sold + held, and a raised capacity reaches the drop's Redis stock so a fan buys the seat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from core.clock import to_ms
from core.redis_keys import DropKeys
from core.settings import Settings
from gateway.context import app_services
from purchase.inventory import read_stock
from tests.purchase.passes import grant_pass
from tests.support.api import Account, DropSetup, create_drop_setup, iso, sign_up
from tests.support.apps import api_client, running_app


@pytest.fixture(scope="module")
async def paying_app(settings: Settings, localstripe_url: str) -> AsyncIterator[Starlette]:
    paying = settings.replace(stripe_api_key="sk_test_edits", stripe_api_base=localstripe_url,
                              stripe_webhook_secret="whsec_edits")
    async with running_app(paying) as application:
        yield application


APP: list[Starlette] = []  # the module's app, for its Redis and clock (set by `http`)


@pytest.fixture
async def http(paying_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    APP[:] = [paying_app]
    async with api_client(paying_app, timeout=60) as client:
        yield client


async def _setup(http: httpx.AsyncClient, capacity: int = 10) -> DropSetup:
    return await create_drop_setup(http, tiers={
        "GA": {"price_cents": 5000, "currency": "EUR", "capacity": capacity, "per_fan_limit": 4},
        "VIP": {"price_cents": 15000, "currency": "EUR", "capacity": 4, "per_fan_limit": 2}})


async def _hold(http: httpx.AsyncClient, setup: DropSetup, fan: Account, quantity: int,
                ) -> httpx.Response:
    services = app_services(APP[0])
    admission, _ = await grant_pass(services.redis, services.settings.secret_key,
                                    setup.drop_id, fan.id, now_ms=to_ms(services.clock()))
    return await http.post(f"/api/drops/{setup.drop_id}/holds",
                           headers={**fan.headers, "X-Admission-Pass": admission},
                           json={"items": [{"tier_id": setup.tier_ids["GA"],
                                            "quantity": quantity}]})


async def _buy(http: httpx.AsyncClient, setup: DropSetup, quantity: int) -> None:
    fan = await sign_up(http, "edits-fan")
    hold = await _hold(http, setup, fan, quantity)
    assert hold.status_code == 201, hold.text
    paid = await http.post(f"/api/holds/{hold.json()['hold_id']}/checkout",
                           headers=fan.headers, json={"payment_method": "pm_card_visa"})
    assert paid.json()["status"] == "paid", paid.text


def _tier_url(setup: DropSetup, name: str = "GA") -> str:
    return f"/api/events/{setup.event_id}/tiers/{setup.tier_ids[name]}"


async def test_only_the_venues_admins_edit(http: httpx.AsyncClient) -> None:
    setup = await _setup(http)
    stranger = (await _setup(http)).admin
    fan = await sign_up(http, "edits-nosy")
    event_url = f"/api/events/{setup.event_id}"
    for headers, status in (({}, 401), (fan.headers, 403), (stranger.headers, 403)):
        assert (await http.patch(event_url, headers=headers,
                                 json={"title": "Taken"})).status_code == status
        assert (await http.patch(_tier_url(setup), headers=headers,
                                 json={"capacity": 1})).status_code == status
        assert (await http.get(f"{event_url}/tiers", headers=headers)).status_code == status
    event = await http.patch(event_url, headers=setup.admin.headers,
                             json={"title": "Renamed", "description": "Doors at 19:00"})
    assert event.status_code == 200, event.text
    assert (event.json()["title"], event.json()["description"]) == ("Renamed",
                                                                     "Doors at 19:00")
    public = (await http.get(event_url)).json()
    assert public["title"] == "Renamed"


@pytest.mark.parametrize(("body", "status", "words"), [
    ({}, 422, "send at least one of"),
    ({"title": None}, 422, "cannot be null"),
    ({"title": "a\u0000b"}, 422, "NUL"),
    ({"title": ""}, 422, "title"),
    ({"colour": "red"}, 422, "colour"),
    ({"ends_at": "2020-01-01T00:00:00Z"}, 422, "ends_at must be after starts_at"),
    ({"starts_at": "2031-01-01T20:00:00"}, 422, "timezone offset"),
])
async def test_a_bad_event_edit_is_a_4xx(http: httpx.AsyncClient, body: dict, status: int,
                                         words: str) -> None:
    setup = await _setup(http)
    answer = await http.patch(f"/api/events/{setup.event_id}", headers=setup.admin.headers,
                              json=body)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"]


@pytest.mark.parametrize(("body", "status", "words"), [
    ({}, 422, "send at least one of"),
    ({"capacity": -1}, 422, "capacity"),
    ({"per_fan_limit": 0}, 422, "per_fan_limit"),
    ({"currency": "USD"}, 422, "currency"),
    ({"name": "VIP"}, 409, "already has a tier named 'VIP'"),
])
async def test_a_bad_tier_edit_is_a_4xx(http: httpx.AsyncClient, body: dict, status: int,
                                        words: str) -> None:
    setup = await _setup(http)
    answer = await http.patch(_tier_url(setup), headers=setup.admin.headers, json=body)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"]


async def test_a_tier_of_another_event_is_not_found(http: httpx.AsyncClient) -> None:
    setup, other = await _setup(http), await _setup(http)
    answer = await http.patch(f"/api/events/{setup.event_id}/tiers/{other.tier_ids['GA']}",
                              headers=setup.admin.headers, json={"capacity": 5})
    assert answer.status_code == 404


async def test_the_price_locks_after_a_sale_and_capacity_keeps_sold_plus_held(
    http: httpx.AsyncClient,
) -> None:
    setup = await _setup(http)
    headers = setup.admin.headers
    early = await http.patch(_tier_url(setup), headers=headers, json={"price_cents": 5500})
    assert early.status_code == 200 and early.json()["price_locked"] is None
    await _buy(http, setup, 2)
    carted = await _hold(http, setup, await sign_up(http, "edits-cart"), 1)
    assert carted.status_code == 201, carted.text
    price = await http.patch(_tier_url(setup), headers=headers, json={"price_cents": 100})
    assert price.status_code == 409, price.text
    assert "price is fixed" in price.json()["detail"] and "(2 sold, 1 in carts)" in (
        price.json()["detail"])
    low = await http.patch(_tier_url(setup), headers=headers, json={"capacity": 2})
    assert low.status_code == 409 and "below the 3 seats" in low.json()["detail"]
    ok = await http.patch(_tier_url(setup), headers=headers,
                          json={"capacity": 3, "name": "Floor", "per_fan_limit": 2})
    assert ok.status_code == 200, ok.text
    listed = (await http.get(f"/api/events/{setup.event_id}/tiers", headers=headers)).json()
    floor = next(tier for tier in listed["tiers"] if tier["id"] == setup.tier_ids["GA"])
    assert (floor["name"], floor["capacity"], floor["sold"], floor["held"],
            floor["price_cents"]) == ("Floor", 3, 2, 1, 5500)
    assert "price is fixed" in floor["price_locked"]


async def test_a_raised_capacity_reaches_the_stock_and_a_fan_buys_the_new_seat(
    http: httpx.AsyncClient,
) -> None:
    setup = await _setup(http, capacity=2)
    await _buy(http, setup, 2)
    scripts = app_services(APP[0]).scripts
    keys, ga = DropKeys(setup.drop_id), setup.tier_ids["GA"]
    assert (await read_stock(scripts, keys))[ga] == 0
    latecomer = await sign_up(http, "edits-late")
    refused = await _hold(http, setup, latecomer, 1)
    assert refused.status_code == 409, refused.text
    raised = await http.patch(_tier_url(setup), headers=setup.admin.headers,
                              json={"capacity": 3})
    assert raised.status_code == 200, raised.text
    assert (await read_stock(scripts, keys))[ga] == 1
    held = await _hold(http, setup, latecomer, 1)
    assert held.status_code == 201, held.text
    paid = await http.post(f"/api/holds/{held.json()['hold_id']}/checkout",
                           headers=latecomer.headers, json={"payment_method": "pm_card_visa"})
    assert paid.json()["status"] == "paid", paid.text
    # Lowering it back is refused now: all three seats are sold.
    assert (await http.patch(_tier_url(setup), headers=setup.admin.headers,
                             json={"capacity": 2})).status_code == 409


async def test_times_move_and_a_cancelled_event_stays_as_it_was(http: httpx.AsyncClient) -> None:
    setup = await _setup(http)
    event_url = f"/api/events/{setup.event_id}"
    before = (await http.get(event_url)).json()
    starts = datetime.fromisoformat(before["starts_at"]) + timedelta(days=1)
    moved = await http.patch(event_url, headers=setup.admin.headers, json={
        "starts_at": iso(starts), "ends_at": iso(starts + timedelta(hours=4))})
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == starts
    cancel = await http.post(f"{event_url}/cancel", headers=setup.admin.headers,
                             json={"reason": "storm"})
    assert cancel.status_code in (200, 202), cancel.text
    refused = await http.patch(event_url, headers=setup.admin.headers, json={"title": "Back"})
    assert refused.status_code == 409 and "cancelled" in refused.json()["detail"]

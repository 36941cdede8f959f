"""The fan pages of issue 13 in a real browser, on a laptop and a 390 px phone: home with
filters, venue-local dates and prices; the waiting room's pre-queue countdown; the buy
page's per-fan limit and currency decimals; boarding-pass tickets and orders; and axe-core
on every one of them (no serious or critical violation)."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from core.clock import to_ms, utcnow
from gateway.context import app_services
from queue_engine.passes import admit_batch
from tests.lottery.conftest import make_lottery
from tests.scanner.factory import issue, make_door
from tests.support.api import Account, create_drop_setup, sign_up
from tests.support.axe import VIEWPORTS, blocking_violations

pytestmark = pytest.mark.browser


async def _signed_in(chromium_browser: Any, live_server: Any, account: Account,
                     viewport: str = "desktop") -> tuple[Any, Any]:
    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-US",
                                                 viewport=VIEWPORTS[viewport])
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": account.email, "password": account.password})
    assert signed_in.ok
    return context, await context.new_page()


async def _admitted(client: httpx.AsyncClient, app: Any, drop_id: int, fan: Account) -> None:
    assert (await client.post(f"/api/drops/{drop_id}/queue",
                              headers=fan.headers)).status_code == 201
    for _ in range(50):  # the pacing bucket fills from the opening on: a few tenths of a second
        admitted = await admit_batch(app_services(app).scripts, drop_id, now_ms=to_ms(utcnow()))
        if admitted.admitted:
            break
        await asyncio.sleep(0.1)
    standing = (await client.get(f"/api/drops/{drop_id}/queue", headers=fan.headers)).json()
    assert standing["state"] == "admitted", standing


async def _fits_the_screen(page: Any) -> bool:
    fits: bool = await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    return fits


async def _own_event(client: httpx.AsyncClient, *, city: str, timezone: str,
                     starts_at: datetime, tiers: dict[str, tuple[int, str]]) -> tuple[int, int]:
    """A published event at a venue of its own (a city no other test uses), with an open drop."""
    admin = await sign_up(client, "venue")
    venue = await client.post("/api/venues", headers=admin.headers,
                              json={"name": "Blue Note", "city": city, "timezone": timezone})
    assert venue.status_code == 201, venue.text
    event = await client.post("/api/events", headers=admin.headers, json={
        "venue_id": venue.json()["id"], "title": f"Night in {city}", "description": "Jazz",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=3)).isoformat(), "published": True})
    assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    for name, (price, currency) in tiers.items():
        tier = await client.post(f"/api/events/{event_id}/tiers", headers=admin.headers, json={
            "name": name, "price_cents": price, "currency": currency, "capacity": 50,
            "per_fan_limit": 3})
        assert tier.status_code == 201, tier.text
    now = datetime.now(UTC)
    drop = await client.post("/api/drops", headers=admin.headers, json={
        "event_id": event_id, "mode": "direct",
        "prequeue_opens_at": (now - timedelta(hours=1)).isoformat(),
        "opens_at": (now - timedelta(seconds=1)).isoformat(),
        "closes_at": (now + timedelta(hours=2)).isoformat(), "admit_per_minute": 600,
        "max_active": 100, "session_seconds": 600, "challenge_difficulty": 0})
    assert drop.status_code == 201, drop.text
    return event_id, drop.json()["id"]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_home_shows_the_venues_date_prices_and_state_and_filters(
        client, live_server, chromium_browser, viewport):
    from playwright.async_api import expect

    city = f"Kyoto-{secrets.token_hex(3)}"
    starts_at = datetime(2031, 5, 1, 11, 0, tzinfo=UTC)  # 20:00 in Tokyo
    event_id, _drop = await _own_event(client, city=city, timezone="Asia/Tokyo",
                                       starts_at=starts_at,
                                       tiers={"GA": (4500, "JPY"), "VIP": (12000, "JPY")})
    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-US",
                                                 viewport=VIEWPORTS[viewport])
    try:
        page = await context.new_page()
        await page.goto("/")
        await page.locator("#search-city").select_option(city)
        await page.locator("#event-search button[type=submit]").click()
        card = page.locator(f"[data-event-id='{event_id}']")
        await expect(card).to_have_count(1)
        assert await page.locator("[data-event-id]").count() == 1  # only that city
        await expect(card.locator(".event-date")).to_have_text("Thu 01 May 2031, 20:00")
        await expect(card).to_contain_text("(JST)")
        await expect(card.locator(".price-range")).to_contain_text("4,500 – 12,000 JPY")
        await expect(card.locator(".sale-state")).to_have_text("On sale")
        await expect(card.locator(".venue")).to_have_text(f"Blue Note, {city}")
        assert await _fits_the_screen(page)
        # The date filter reads the venue's calendar: 1 May in Tokyo, not 30 April.
        await page.goto(f"/?city={city}&date=2031-04-30")
        await expect(page.locator("#no-events")).to_be_visible()
        await page.locator("#search-date").fill("2031-05-01")
        await page.locator("#event-search button[type=submit]").click()
        await expect(card).to_have_count(1)
    finally:
        await context.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_the_pre_queue_counts_down_to_the_draw_in_the_venues_time(
        client, live_server, chromium_browser, viewport):
    from playwright.async_api import expect

    setup = await create_drop_setup(client, opens_in=timedelta(minutes=30),
                                 prequeue_for=timedelta(hours=1))  # Europe/Paris
    opens = (await client.get(f"/api/drops/{setup.drop_id}")).json()["opens_at"]
    paris = ZoneInfo("Europe/Paris")
    local = datetime.fromisoformat(opens.replace("Z", "+00:00")).astimezone(paris)
    fan = await sign_up(client)
    context, page = await _signed_in(chromium_browser, live_server, fan, viewport)
    try:
        await page.goto(f"/drops/{setup.drop_id}")
        await expect(page.locator("#room")).to_have_attribute("data-state", "prequeue")
        await expect(page.locator("#prequeue-note")).to_have_text(
            f"You are in the pre-queue; your place is drawn at {local:%H:%M} ({local:%Z}).")
        await expect(page.locator("#countdown")).to_have_text(
            re.compile(r"^(29|30):\d\d$"))
        await expect(page.locator("#venue-clock")).to_have_text(
            re.compile(r"^\d\d:\d\d$"))
        # The event's facts beside the line: tiers with fees included and the limit.
        await expect(page.locator("#tiers")).to_contain_text("At most 4 per fan")
        await expect(page.locator("#tiers")).to_contain_text("€50.00")
        assert await _fits_the_screen(page)
    finally:
        await context.close()


async def test_the_buy_page_prints_the_limit_and_zero_decimal_currencies(
        client, app, live_server, chromium_browser):
    from playwright.async_api import expect

    setup = await create_drop_setup(client, tiers={
        "GA": {"price_cents": 4500, "currency": "JPY", "capacity": 20, "per_fan_limit": 3}})
    fan = await sign_up(client)
    await _admitted(client, app, setup.drop_id, fan)
    context, page = await _signed_in(chromium_browser, live_server, fan, "phone")
    try:
        await page.goto(f"/drops/{setup.drop_id}/buy")
        await expect(page.locator("#buy")).to_have_attribute("data-state", "choose")
        await expect(page.locator("#buy .price")).to_have_text("¥4,500")
        await expect(page.locator("#buy .per-fan-limit")).to_have_text("At most 3 per fan")
        await page.locator(f"input[data-tier-id='{setup.tier_ids['GA']}']").fill("2")
        await page.locator("#hold-button").click()
        await expect(page.locator("#buy")).to_have_attribute("data-state", "held")
        await expect(page.locator("#total")).to_have_text("¥9,000")
        await expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d+:\d\d$"))
        assert await _fits_the_screen(page)
    finally:
        await context.close()


async def test_tickets_are_passes_with_holder_order_and_status_and_orders_name_the_event(
        client, sessionmaker, live_server, chromium_browser):
    from playwright.async_api import expect

    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    context, page = await _signed_in(chromium_browser, live_server, door.fan, "phone")
    try:
        await page.goto("/me/tickets")
        card = page.locator(f".ticket[data-ticket-id='{ticket}']")
        await expect(card.locator(".qr svg")).to_have_count(1)
        await expect(card.locator(".holder")).to_have_text("Fan")
        await expect(card.locator(".status")).to_have_text("Valid")
        await expect(card.locator(".order")).to_have_text(re.compile(r"^[0-9A-F]{8}$"))
        # The QR is centred in its card.
        box, qr = await card.bounding_box(), await card.locator(".qr svg").bounding_box()
        assert abs((box["x"] + box["width"] / 2) - (qr["x"] + qr["width"] / 2)) < 2
        assert await _fits_the_screen(page)
        await page.goto("/me/orders")
        order = page.locator("#orders .order").first
        await expect(order.locator(".event-title")).to_have_text("Show")
        await expect(order.locator(".order-state")).to_have_text("Paid")
        await expect(order.locator(".order-total")).to_have_text("€50.00")
        assert await _fits_the_screen(page)
    finally:
        await context.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_every_fan_page_has_no_serious_axe_violation(
        client, app, sessionmaker, live_server, chromium_browser, viewport):
    door = await make_door(client)
    await issue(sessionmaker, door)
    await _admitted(client, app, door.setup.drop_id, door.fan)
    prequeue = await create_drop_setup(client, opens_in=timedelta(minutes=30),
                                 prequeue_for=timedelta(hours=1))
    lottery = await make_lottery(client)
    waiting = await create_drop_setup(client, admit_per_minute=1, max_active=1)
    context, page = await _signed_in(chromium_browser, live_server, door.fan, viewport)
    pages = {
        "/": "#events", f"/drops/{prequeue.drop_id}": "#room[data-state='prequeue']",
        f"/drops/{waiting.drop_id}": "#room[data-state='waiting'], #room[data-state='admitted']",
        f"/drops/{door.setup.drop_id}/buy": "#buy[data-state='choose']",
        f"/drops/{lottery.drop_id}/lottery": "#lottery", "/me/tickets": ".ticket .qr svg",
        "/me/orders": "#orders .order .event-title:not(:empty)",
    }
    try:
        found = {}
        for path, ready in pages.items():
            await page.goto(path)
            await page.locator(ready).first.wait_for()
            if violations := await blocking_violations(page):
                found[path] = violations
            assert await _fits_the_screen(page), path
        assert found == {}
    finally:
        await context.close()

"""Issue 13's dashboard bugs in a real browser: revenue (2), the observed admission rate
(6) and a lottery drop's dashboard (7). Each failed on the code before its fix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import to_ms, utcnow
from core.redis_keys import DropKeys
from gateway.context import app_services
from tests.scanner.factory import issue, make_door
from tests.support.api import create_drop_setup, sign_up

pytestmark = pytest.mark.browser


async def _signed_in_page(chromium_browser, live_server, account):
    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-US")
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": account.email, "password": account.password})
    assert signed_in.ok
    return context, await context.new_page()


async def test_revenue_shows_the_paid_orders_total(client, sessionmaker, live_server,
                                                   chromium_browser):
    """Bug 2: the page read `sales.revenue_cents`; the API returns `revenue: [...]`."""
    from playwright.async_api import expect

    door = await make_door(client)
    await issue(sessionmaker, door, count=3)  # one paid order, 3 tickets at 50.00 EUR
    context, page = await _signed_in_page(chromium_browser, live_server, door.setup.admin)
    try:
        await page.goto(f"/venue/drops/{door.setup.drop_id}")
        await expect(page.locator("#revenue")).to_have_text("€150.00")
    finally:
        await context.close()


async def test_admitted_per_minute_is_observed_not_the_setting(client, app, live_server,
                                                               chromium_browser):
    """Bug 6: opened 30 s ago, nobody admitted: the card said 600 (the setting)."""
    from playwright.async_api import expect

    setup = await create_drop_setup(client, admit_per_minute=600)
    fan = await sign_up(client)
    assert (await client.post(f"/api/drops/{setup.drop_id}/queue",
                              headers=fan.headers)).status_code == 201
    # The line opened (the join did it) 30 s ago, the first 10 s of "too little history"
    # are over, and nobody has been admitted since.
    meta = DropKeys(setup.drop_id).meta
    redis = app_services(app).scripts.client
    assert await redis.hget(meta, "opened") in {"1", b"1"}
    await redis.hset(meta, "opened_at_ms", to_ms(utcnow() - timedelta(seconds=30)))
    context, page = await _signed_in_page(chromium_browser, live_server, setup.admin)
    try:
        await page.goto(f"/venue/drops/{setup.drop_id}")
        await expect(page.locator("#configured")).to_have_text("600")
        await expect(page.locator("#waiting")).to_have_text("1")
        await expect(page.locator("#rate")).to_have_text("0")
    finally:
        await context.close()
    stats = (await client.get(f"/api/drops/{setup.drop_id}/stats",
                              headers=setup.admin.headers)).json()
    assert stats["queue"]["observed_admit_per_minute"] == 0


async def test_a_lottery_drop_dashboard_has_no_waiting_room(client, live_server,
                                                            chromium_browser):
    """Bug 7: phase "unknown" (the queue of a lottery is never synced) and queue controls."""
    from playwright.async_api import expect

    setup = await create_drop_setup(client, mode="lottery", opens_in=timedelta(hours=1))
    drop = (await client.get(f"/api/drops/{setup.drop_id}")).json()
    context, page = await _signed_in_page(chromium_browser, live_server, setup.admin)
    try:
        await page.goto(f"/venue/drops/{setup.drop_id}")
        await expect(page.locator("#title")).to_contain_text("(lottery)")
        await expect(page.locator("#phase")).to_have_text(drop["state"])
        await expect(page.locator("#lottery-link")).to_be_visible()
        assert await page.locator("#lottery-link").get_attribute("href") == (
            f"/venue/drops/{setup.drop_id}/lottery")
        for control in ("#pause", "#resume", "#close", "#pacing", "#waiting", "#rate"):
            await expect(page.locator(control)).to_be_hidden()
        await expect(page.locator("#revenue")).to_be_visible()
    finally:
        await context.close()

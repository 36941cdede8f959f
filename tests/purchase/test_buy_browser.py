"""The whole fan journey in a real browser: admitted by the real queue, the waiting room
links to the purchase page, the fan holds GA tickets, sees the countdown, pays, sees tickets."""

from __future__ import annotations

import re

import httpx
import pytest

from core.clock import to_ms, utcnow
from queue_engine.passes import admit_batch
from tests.browser.conftest import chromium_browser  # noqa: F401 (fixture)
from tests.support.api import create_drop_setup, sign_up
from tests.support.processes import RunningProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_fan_buys_from_the_waiting_room(paying_gateway: RunningProcess, ctx,
                                              chromium_browser) -> None:  # noqa: F811
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=paying_gateway.url, timeout=30) as http:
        setup = await create_drop_setup(http)
        fan = await sign_up(http, "browser")
        joined = await http.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
        assert joined.status_code == 201, joined.text
    start = to_ms(utcnow())
    for step in range(1, 20):
        if (await admit_batch(ctx.scripts, setup.drop_id, now_ms=start + step * 200)).admitted:
            break
    context = await chromium_browser.new_context(base_url=paying_gateway.url,
                                                 viewport={"width": 390, "height": 844})
    try:
        signed_in = await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})
        assert signed_in.ok
        page = await context.new_page()
        await page.goto(f"/drops/{setup.drop_id}")
        await expect(page.locator("#room")).to_have_attribute("data-state", "admitted")
        await page.locator("#buy").click()
        await expect(page).to_have_url(re.compile(rf"/drops/{setup.drop_id}/buy$"))  # no pass in it
        buy = page.locator("#buy")
        await expect(buy).to_have_attribute("data-state", "choose")
        await page.fill(f"input[data-tier-id='{setup.tier_ids['GA']}']", "2")
        await page.click("#hold-button")
        await expect(buy).to_have_attribute("data-state", "held")
        await expect(page.locator("#countdown")).to_have_text(re.compile(r"^(9|10):\d\d$"))
        await expect(page.locator("#total")).to_have_text("100.00 EUR")
        await page.select_option("#card", "pm_card_visa")
        await page.click("#pay-button")
        await expect(buy).to_have_attribute("data-state", "paid")
        await expect(page.locator("#tickets li")).to_have_count(2)
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    finally:
        await context.close()

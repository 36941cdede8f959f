"""axe-core on the pages, desktop and phone (issue 13's quality bar): no serious or
critical violation. Pages join PAGES as their journeys get browser tests of their own."""

from __future__ import annotations

import pytest

from tests.support.api import sign_up
from tests.support.axe import VIEWPORTS, blocking_violations

pytestmark = pytest.mark.browser

# Pages a signed-out visitor reaches.
PUBLIC_PAGES = ["/", "/no-such-page"]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_public_pages_have_no_serious_violation(live_server, chromium_browser,
                                                      viewport):
    context = await chromium_browser.new_context(base_url=live_server.url,
                                                 viewport=VIEWPORTS[viewport])
    try:
        page = await context.new_page()
        found = {}
        for path in PUBLIC_PAGES:
            await page.goto(path)
            await page.wait_for_load_state("networkidle")
            if violations := await blocking_violations(page):
                found[path] = violations
        assert found == {}
    finally:
        await context.close()


# Pages of a signed-in fan (the account pages).
SIGNED_IN_PAGES = ["/account", "/account/security"]
# The account pages a signed-out visitor reaches (a reset link without its token still shows).
SIGN_IN_PAGES = ["/login", "/reset"]


async def _violations_on(page, paths: list[str]) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
        if violations := await blocking_violations(page):
            found[path] = violations
    return found


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_account_pages_have_no_serious_violation(client, live_server, chromium_browser,
                                                       viewport):
    fan = await sign_up(client)
    context = await chromium_browser.new_context(base_url=live_server.url,
                                                 viewport=VIEWPORTS[viewport])
    try:
        page = await context.new_page()
        found = await _violations_on(page, SIGN_IN_PAGES)
        assert (await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})).ok
        found |= await _violations_on(page, SIGNED_IN_PAGES)
        assert found == {}
    finally:
        await context.close()


async def test_the_header_fits_a_phone_and_shows_who_is_signed_in(client, live_server,
                                                                 chromium_browser):
    from playwright.async_api import expect

    fan = await sign_up(client)
    context = await chromium_browser.new_context(base_url=live_server.url,
                                                 viewport=VIEWPORTS["phone"])
    try:
        assert (await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})).ok
        page = await context.new_page()
        for path in ("/", "/account"):
            await page.goto(path)
            nav = page.locator(".topbar nav")
            await expect(nav.locator(".who-email")).to_have_text(fan.email)
            await expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
            await expect(nav.get_by_role("link", name="My orders")).to_be_visible()
            await expect(nav.get_by_role("link", name="Venue")).to_be_hidden()
            overflow = await page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} is {overflow} px wider than a 390 px phone"
    finally:
        await context.close()

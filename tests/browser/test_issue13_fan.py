"""Issue 13's fan-side bugs in a real browser: a checked-in ticket (3), the buy page's
over-limit message (8), unknown URLs and the favicon (9), the header (10). Each failed on
the code before its fix."""

from __future__ import annotations

import asyncio
import re

import pytest

from core.clock import to_ms, utcnow
from gateway.context import app_services
from queue_engine.passes import admit_batch
from tests.scanner.factory import issue, live_payload, make_door, scan_body
from tests.support.api import create_drop_setup, sign_up

pytestmark = pytest.mark.browser


async def _signed_in(chromium_browser, live_server, account):
    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-US")
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": account.email, "password": account.password})
    assert signed_in.ok
    return context, await context.new_page()


async def test_a_checked_in_ticket_shows_no_live_code(client, sessionmaker, live_server,
                                                     chromium_browser):
    """Bug 3: refreshCode() replaced "Checked in at …" with a fresh QR at once."""
    from playwright.async_api import expect

    door = await make_door(client)
    [used, fresh] = await issue(sessionmaker, door, count=2)
    scanned = await client.post("/api/scan", headers=door.scanner.headers,
                                json=scan_body(await live_payload(client, door.fan, used)))
    assert scanned.status_code == 200 and scanned.json()["result"] == "valid"
    context, page = await _signed_in(chromium_browser, live_server, door.fan)
    try:
        await page.goto("/me/tickets")
        valid = page.locator(f".ticket[data-ticket-id='{fresh}']")
        await expect(valid.locator(".qr svg")).to_have_count(1)  # its code has loaded
        await expect(valid.locator(".state")).to_contain_text("Code changes every")
        checked_in = page.locator(f".ticket[data-ticket-id='{used}']")
        await expect(checked_in.locator(".state")).to_have_text(
            re.compile(r"^Checked in at \d"))
        await page.wait_for_timeout(1000)  # a code fetch would have answered by now
        await expect(checked_in.locator(".state")).to_contain_text("Checked in at")
        await expect(checked_in.locator(".qr svg")).to_have_count(0)
        assert await checked_in.locator(".manual").text_content() == ""
    finally:
        await context.close()


async def test_over_the_limit_says_how_many_are_left(client, app, live_server,
                                                     chromium_browser):
    """Bug 8: "at most 4 tickets of this tier per fan", lowercase, no count left."""
    from playwright.async_api import expect

    setup = await create_drop_setup(client)  # GA: at most 4 per fan
    fan = await sign_up(client)
    assert (await client.post(f"/api/drops/{setup.drop_id}/queue",
                              headers=fan.headers)).status_code == 201
    for _ in range(50):  # the pacing bucket fills from the opening on: a few tenths of a second
        admitted = await admit_batch(app_services(app).scripts, setup.drop_id,
                                     now_ms=to_ms(utcnow()))
        if admitted.admitted:
            break
        await asyncio.sleep(0.1)
    standing = (await client.get(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)).json()
    assert standing["state"] == "admitted", standing
    admission = standing["pass"]
    first = await client.post(f"/api/drops/{setup.drop_id}/holds",
                              headers={**fan.headers, "X-Admission-Pass": admission},
                              json={"items": [{"tier_id": setup.tier_ids["GA"], "quantity": 3}]})
    assert first.status_code == 201, first.text
    context, page = await _signed_in(chromium_browser, live_server, fan)
    try:
        await page.goto(f"/drops/{setup.drop_id}/buy")
        await expect(page.locator("#buy")).to_have_attribute("data-state", "choose")
        await page.locator(f"input[data-tier-id='{setup.tier_ids['GA']}']").fill("2")
        await page.locator("#hold-button").click()
        await expect(page.locator("#message")).to_have_text(
            "You can have at most 4 GA tickets and you already have 3: you can add 1 more.")
        await expect(page.locator("#buy")).to_have_attribute("data-state", "choose")
    finally:
        await context.close()


async def test_unknown_pages_are_html_with_the_header_api_stays_json(client, live_server,
                                                                     chromium_browser):
    """Bug 9: a browser got a JSON problem document for an unknown URL; no favicon."""
    from playwright.async_api import expect

    page = await chromium_browser.new_page(base_url=live_server.url)
    try:
        answer = await page.goto("/no/such/page")
        assert answer is not None and answer.status == 404
        assert answer.headers["content-type"].startswith("text/html")
        await expect(page.locator("h1")).to_have_text("Page not found")
        await expect(page.locator(".topbar a.brand")).to_have_text("TicketQ")
        icon = await page.locator("link[rel=icon]").get_attribute("href")
        assert icon is not None
        favicon = await page.request.get(icon)
        assert favicon.status == 200 and favicon.headers["content-type"] == "image/svg+xml"
        assert (await favicon.body()).startswith(b"<svg")
        # API clients keep problem+json, even one that asks for HTML under /api/.
        for path, accept in (("/no/such/page", "application/json"),
                             ("/api/no/such", "text/html,application/xhtml+xml")):
            api = await page.request.get(path, headers={"Accept": accept})
            assert api.status == 404
            assert api.headers["content-type"] == "application/problem+json"
            assert (await api.json())["status"] == 404
    finally:
        await page.close()


async def test_the_header_knows_who_is_signed_in_and_signs_out(client, live_server,
                                                               chromium_browser):
    """Bug 10: "Sign in" for signed-in people, "Venue" for fans, no way to sign out."""
    from playwright.async_api import expect

    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    context, page = await _signed_in(chromium_browser, live_server, fan)
    try:
        await page.goto("/")
        nav = page.locator(".topbar nav")
        await expect(nav.locator(".who")).to_have_text("Fan")
        await expect(nav.get_by_role("link", name="Sign in")).to_be_hidden()
        await expect(nav.get_by_role("link", name="Venue")).to_be_hidden()
        await nav.get_by_role("button", name="Sign out").click()  # a POST through csrf.js
        await expect(page).to_have_url(f"{live_server.url}/")
        await expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
        assert (await context.request.get("/api/me")).status == 401  # the session ended
    finally:
        await context.close()
    context, page = await _signed_in(chromium_browser, live_server, setup.admin)
    try:
        await page.goto("/")
        await expect(page.locator(".topbar nav").get_by_role("link", name="Venue")).to_be_visible()
    finally:
        await context.close()

"""Issue 13's venue form bugs in a real browser whose own zone is New York while the venue
is in Paris: the drop form's times (4), the lottery form's draw time (4) and what the
lottery page says after a save (5). Each failed on the code before its fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.api import create_drop_setup

pytestmark = pytest.mark.browser

PARIS = ZoneInfo("Europe/Paris")  # the venue of create_drop_setup


def paris_wall_clock(moment: datetime) -> str:
    """What a venue manager in Paris types into a datetime-local field for this instant."""
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def instant(api_time: str) -> datetime:
    return datetime.fromisoformat(api_time.replace("Z", "+00:00"))


async def _signed_in_far_away(chromium_browser, live_server, account):
    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-US",
                                                 timezone_id="America/New_York")
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": account.email, "password": account.password})
    assert signed_in.ok
    return context, await context.new_page()


async def test_the_drop_form_reads_times_in_the_venues_timezone(client, live_server,
                                                                chromium_browser):
    from playwright.async_api import expect

    setup = await create_drop_setup(client)
    # A winter and a summer moment: Paris is UTC+1, then UTC+2 (New York -5 and -4).
    opens = datetime(2031, 3, 29, 19, 0, tzinfo=UTC)
    moments = {"prequeue_opens_at": opens - timedelta(hours=1), "opens_at": opens,
               "closes_at": datetime(2031, 4, 2, 18, 0, tzinfo=UTC)}
    context, page = await _signed_in_far_away(chromium_browser, live_server, setup.admin)
    try:
        await page.goto("/venue")
        await expect(page.locator("#venues .card h2")).to_have_text("Hall")
        form = page.locator("#new-drop")
        for name, moment in moments.items():
            await form.locator(f"input[name={name}]").fill(paris_wall_clock(moment))
        await form.locator("button").click()
        await expect(page.locator("#venues a")).to_have_count(2)  # the new drop's link
        assert await page.locator("#error").text_content() == ""
    finally:
        await context.close()
    listed = (await client.get("/api/me/venues", headers=setup.admin.headers)).json()
    [event] = listed["venues"][0]["events"]
    new_id = max(drop["id"] for drop in event["drops"])
    drop = (await client.get(f"/api/drops/{new_id}")).json()
    assert {name: instant(drop[name]) for name in moments} == moments


async def _lottery_page(client, live_server, chromium_browser):
    setup = await create_drop_setup(client, mode="lottery", opens_in=timedelta(hours=1),
                                    open_for=timedelta(hours=2))
    drop = (await client.get(f"/api/drops/{setup.drop_id}")).json()
    draw_at = (instant(drop["closes_at"]) + timedelta(hours=1)).replace(second=0,
                                                                       microsecond=0)
    context, page = await _signed_in_far_away(chromium_browser, live_server, setup.admin)
    await page.goto(f"/venue/drops/{setup.drop_id}/lottery")
    return setup, draw_at, context, page


async def test_the_lottery_form_reads_the_draw_time_in_the_venues_timezone(
        client, live_server, chromium_browser):
    from playwright.async_api import expect

    setup, draw_at, context, page = await _lottery_page(client, live_server, chromium_browser)
    try:
        await expect(page.locator("#config-form")).to_contain_text("Europe/Paris")
        await page.locator("input[name=draw_at]").fill(paris_wall_clock(draw_at))
        await page.locator("#config-form button").click()
        await expect(page.locator("[data-field=state]")).to_have_text("open")
    finally:
        await context.close()
    lottery = (await client.get(f"/api/drops/{setup.drop_id}/lottery")).json()
    assert instant(lottery["draw_at"]) == draw_at


async def test_after_a_save_the_lottery_page_is_configured_and_says_so_calmly(
        client, live_server, chromium_browser):
    from playwright.async_api import expect

    _setup, draw_at, context, page = await _lottery_page(client, live_server, chromium_browser)
    try:
        unconfigured = page.get_by_text("Not configured yet")
        await expect(unconfigured).to_be_visible()
        await page.locator("input[name=draw_at]").fill(paris_wall_clock(draw_at))
        await page.locator("#config-form button").click()
        await expect(page.locator("[data-field=state]")).to_have_text("open")
        await expect(unconfigured).to_be_hidden()
        await expect(page.locator("[data-field=config-error]")).to_have_text("")
        note = page.get_by_role("status").filter(has_text="Saved.")
        await expect(note).to_be_visible()
        assert await note.get_attribute("class") == "note"  # not styled as an error
    finally:
        await context.close()

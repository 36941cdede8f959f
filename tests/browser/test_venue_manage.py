"""The venue's management journeys in a real browser, desktop and phone: an event made
as a draft and published later from its page, with a tier and a drop whose hold time is
set in the form; cancelling with a confirmation that counts the refunds; staff removed
from the venue card; the dashboard's charts and its reason when admission waits."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.scanner.factory import issue, make_door
from tests.support.api import create_drop_setup, sign_up
from tests.support.axe import VIEWPORTS

pytestmark = pytest.mark.browser


async def _signed_in_page(chromium_browser, live_server, account, viewport):
    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-GB",
                                                 viewport=VIEWPORTS[viewport])
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": account.email, "password": account.password})
    assert signed_in.ok
    return context, await context.new_page()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_a_draft_event_is_set_up_and_published_later(client, live_server,
                                                           chromium_browser, viewport):
    from playwright.async_api import expect

    setup = await create_drop_setup(client)
    context, page = await _signed_in_page(chromium_browser, live_server, setup.admin, viewport)
    try:
        await page.goto("/venue")
        form = page.locator("#new-event")
        await form.locator("input[name=title]").fill("Later night")
        await form.locator("input[name=starts_at]").fill("2031-05-01T20:00")
        await form.locator("input[name=ends_at]").fill("2031-05-01T23:00")
        await form.locator("input[name=published]").uncheck()
        await form.locator("button").click()
        await expect(form.get_by_role("status")).to_contain_text('"Later night" created (draft)')
        # The pickers follow the event just created.
        for picker in ("#new-tier select[name=event_id]", "#new-drop select[name=event_id]"):
            await expect(page.locator(picker).locator("option:checked")).to_have_text(
                "Later night (Hall)")
        await page.get_by_role("button", name="Manage Later night").click()
        await expect(page.locator("#event-title")).to_have_text("Later night")
        await expect(page.locator("#event-status")).to_have_text("draft")
        await expect(page.locator("#event-when")).to_contain_text("Europe/Paris")

        tier = page.locator("#tier-form")
        await tier.locator("input[name=name]").fill("Floor")
        await tier.locator("button").click()
        await expect(page.locator("#tier-note")).to_have_text("Tier added.")
        await expect(page.locator("#tiers")).to_contain_text("Floor")

        drop = page.locator("#drop-form")
        await drop.locator("input[name=prequeue_opens_at]").fill("2031-04-01T09:00")
        await drop.locator("input[name=opens_at]").fill("2031-04-01T10:00")
        await drop.locator("input[name=closes_at]").fill("2031-04-01T12:00")
        await drop.locator("input[name=hold_seconds]").fill("120")
        await drop.locator("button").click()
        await expect(page.locator("#drop-note")).to_have_text("Drop scheduled.")
        await expect(page.locator("#drops tr")).to_contain_text("120 s cart")

        await page.locator("#publish").click()
        await expect(page.locator("#event-status")).to_have_text("published")
        await expect(page.locator("#publish")).to_be_hidden()
        await expect(page.locator("#error")).to_be_hidden()
    finally:
        await context.close()
    [venue] = (await client.get("/api/me/venues", headers=setup.admin.headers)).json()["venues"]
    [event] = [event for event in venue["events"] if event["title"] == "Later night"]
    assert event["status"] == "published"
    assert [drop["hold_seconds"] for drop in event["drops"]] == [120]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_cancelling_says_how_many_orders_are_refunded(client, sessionmaker, live_server,
                                                            chromium_browser, viewport):
    from playwright.async_api import expect

    door = await make_door(client)
    await issue(sessionmaker, door, count=2)  # one paid order, 2 x 50.00 EUR
    context, page = await _signed_in_page(chromium_browser, live_server, door.setup.admin,
                                          viewport)
    try:
        await page.goto(f"/venue/events/{door.event_id}")
        await expect(page.locator("#event-status")).to_have_text("published")
        await page.locator("#cancel").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_contain_text("1 paid order will be refunded (€100.00).")
        await dialog.get_by_role("button", name="Keep the event").click()
        await expect(dialog).to_be_hidden()
        await page.locator("#cancel").click()
        await page.locator("#cancel-confirm").click()
        await expect(page.locator("#cancel-note")).to_contain_text("Cancelled")
        await expect(page.locator("#event-status")).to_have_text("cancelled")
    finally:
        await context.close()
    event = (await client.get(f"/api/events/{door.event_id}",
                              headers=door.setup.admin.headers)).json()
    assert event["status"] == "cancelled"


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_a_scanner_is_removed_from_the_venue_card(client, live_server, chromium_browser,
                                                        viewport):
    from playwright.async_api import expect

    door = await make_door(client)
    venue_id = door.setup.venue_id
    context, page = await _signed_in_page(chromium_browser, live_server, door.setup.admin,
                                          viewport)
    try:
        await page.goto("/venue")
        card = page.locator(f"#venues .card[data-venue-id='{venue_id}']")
        member = card.locator(f"ul.members li[data-user-id='{door.scanner.id}']")
        await expect(member).to_contain_text("door scanner")
        page.on("dialog", lambda dialog: dialog.accept())
        await member.locator("button.remove").click()
        await expect(member).to_have_count(0)
        await expect(card.locator(".staff [data-note]")).to_contain_text("removed.")
        # The last venue admin stays, and the note next to the form says why.
        await card.locator("ul.members li button.remove").click()
        await expect(card.locator(".staff [data-note]")).to_contain_text("last venue_admin")
        await expect(card.locator(".staff [data-note]")).to_have_class(
            "small col-12 mb-0 text-danger")
    finally:
        await context.close()
    staff = (await client.get(f"/api/venues/{venue_id}/staff",
                              headers=door.setup.admin.headers)).json()["staff"]
    assert [member["user_id"] for member in staff] == [door.setup.admin.id]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_the_dashboard_charts_the_drop_and_says_why_admission_waits(
        client, live_server, chromium_browser, viewport):
    from playwright.async_api import expect

    setup = await create_drop_setup(client)
    # A join opens the line (a pause shows only once the line is open) and waits in it.
    fan = await sign_up(client)
    assert (await client.post(f"/api/drops/{setup.drop_id}/queue",
                              headers=fan.headers)).status_code == 201
    context, page = await _signed_in_page(chromium_browser, live_server, setup.admin, viewport)
    try:
        await page.goto(f"/venue/drops/{setup.drop_id}")
        await expect(page.locator("#title")).to_have_text(
            f"Show: drop {setup.drop_id} (direct)")
        await expect(page.locator("#schedule")).to_contain_text("Europe/Paris")
        for chart in ("#chart-line", "#chart-rate", "#chart-sales", "#chart-revenue"):
            await expect(page.locator(f"{chart} canvas")).to_have_count(1)
        await expect(page.locator("#chart-sales .u-legend")).to_contain_text("VIP")
        await page.locator("#pause").click()
        await expect(page.locator("#controls-note")).to_have_text("Admission paused.")
        await expect(page.locator("#reason")).to_contain_text("Admission paused")
    finally:
        await context.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_a_lottery_dashboard_shows_its_draw_and_no_waiting_room(
        client, live_server, chromium_browser, viewport):
    from playwright.async_api import expect

    setup = await create_drop_setup(client, mode="lottery", opens_in=timedelta(hours=1))
    context, page = await _signed_in_page(chromium_browser, live_server, setup.admin, viewport)
    try:
        await page.goto(f"/venue/drops/{setup.drop_id}")
        await expect(page.locator("#draw-state")).to_have_text("not configured")
        drop = (await client.get(f"/api/drops/{setup.drop_id}")).json()
        closes_at = datetime.fromisoformat(drop["closes_at"].replace("Z", "+00:00"))
        configured = await client.put(
            f"/api/drops/{setup.drop_id}/lottery", headers=setup.admin.headers,
            json={"draw_at": closes_at.isoformat(), "max_quantity_per_entry": 2})
        assert configured.status_code == 200, configured.text
        await expect(page.locator("#draw-state")).to_have_text("open")  # the next poll
        await expect(page.locator("#entries")).to_have_text("0")
        await expect(page.locator("#draw-at")).to_contain_text("draw ")
        for hidden in ("#chart-line", "#chart-rate", "#pause", "#pacing", "#waiting"):
            await expect(page.locator(hidden)).to_be_hidden()
        await expect(page.locator("#chart-sales canvas")).to_be_visible()
    finally:
        await context.close()

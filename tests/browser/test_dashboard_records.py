"""The dashboard's Records section in a real browser: the publish shows in the audit list,
and each CSV link downloads the event's file (templates/dashboard_records.html)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.scanner.factory import Door, issue, make_door
from tests.support.api import create_drop_setup, sign_up
from tests.support.axe import VIEWPORTS, blocking_violations

pytestmark = pytest.mark.browser


async def _signed_in_page(chromium_browser, live_server, account):
    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-US",
                                                 accept_downloads=True)
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": account.email, "password": account.password})
    assert signed_in.ok
    return context, await context.new_page()


async def test_a_publish_shows_in_the_audit_list(client, live_server, chromium_browser):
    from playwright.async_api import expect

    setup = await create_drop_setup(client, published=False)
    published = await client.post(f"/api/events/{setup.event_id}/publish",
                                  headers=setup.admin.headers)
    assert published.status_code == 200, published.text
    context, page = await _signed_in_page(chromium_browser, live_server, setup.admin)
    try:
        await page.goto(f"/venue/drops/{setup.drop_id}")
        newest = page.locator("#audit-entries tr").first
        await expect(newest).to_have_attribute("data-action", "event.publish")
        await expect(newest).to_contain_text(setup.admin.email)
        await expect(page.locator("#audit-entries")).to_contain_text("drop.create")
    finally:
        await context.close()


async def _download(page, link_id: str, folder: Path) -> tuple[str, list[dict[str, str]]]:
    async with page.expect_download() as waiting:
        await page.click(f"#{link_id}")
    download = await waiting.value
    target = folder / download.suggested_filename
    await download.save_as(target)
    text = target.read_bytes().decode("utf-8-sig")
    return download.suggested_filename, list(csv.DictReader(io.StringIO(text)))


async def test_the_csv_links_download_the_events_files(client, sessionmaker, live_server,
                                                       chromium_browser, tmp_path):
    from playwright.async_api import expect

    door: Door = await make_door(client)
    tickets = await issue(sessionmaker, door, count=2)
    await sign_up(client)  # someone else: not in the files
    event = door.event_id
    context, page = await _signed_in_page(chromium_browser, live_server, door.setup.admin)
    try:
        await page.goto(f"/venue/drops/{door.setup.drop_id}")
        await expect(page.locator("#orders-csv")).to_have_attribute(
            "href", f"/api/events/{event}/orders.csv")
        name, orders = await _download(page, "orders-csv", tmp_path)
        assert name == f"event-{event}-orders.csv"
        assert [row["status"] for row in orders] == ["paid"]
        assert orders[0]["fan_email"] == door.fan.email and orders[0]["tickets"] == "2"
        name, attendees = await _download(page, "attendees-csv", tmp_path)
        assert name == f"event-{event}-attendees.csv"
        assert sorted(row["ticket_id"] for row in attendees) == sorted(tickets)
        name, audit = await _download(page, "audit-csv", tmp_path)
        assert name == f"event-{event}-audit.csv"
        assert "drop.create" in {row["action"] for row in audit}
    finally:
        await context.close()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_the_section_has_no_serious_violation(client, live_server, chromium_browser,
                                                    viewport):
    """axe over the page; only this section's elements are this test's business (the
    rest of the dashboard has its own tests)."""
    from playwright.async_api import expect

    setup = await create_drop_setup(client)
    context = await chromium_browser.new_context(base_url=live_server.url,
                                                 viewport=VIEWPORTS[viewport])
    signed_in = await context.request.post("/api/auth/login", data={
        "email": setup.admin.email, "password": setup.admin.password})
    assert signed_in.ok
    try:
        page = await context.new_page()
        await page.goto(f"/venue/drops/{setup.drop_id}")
        await expect(page.locator("#audit-entries tr[data-action]").first).to_be_visible()
        ours = [line for line in await blocking_violations(page)
                if any(mark in line for mark in ("#records", "#audit", "-csv"))]
        assert ours == []
    finally:
        await context.close()

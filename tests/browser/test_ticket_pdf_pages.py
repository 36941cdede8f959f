"""The tickets PDF and the door-codes switch in a real browser: the fan's My tickets and
My orders pages link to the PDF, which the signed-in browser downloads; the venue page
switches an event to phone codes only (a cookie-authenticated PUT through csrf.js)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import Event, Ticket
from tests.scanner.factory import issue, make_door

pytestmark = pytest.mark.browser


async def _signed_in_page(chromium_browser, live_server, account):
    context = await chromium_browser.new_context(base_url=live_server.url)
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": account.email, "password": account.password})
    assert signed_in.ok
    return context, await context.new_page()


async def test_my_tickets_and_my_orders_link_to_the_pdf(
        client, sessionmaker, live_server, chromium_browser):
    from playwright.async_api import expect

    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    async with sessionmaker() as session:
        order_id = await session.scalar(select(Ticket.order_id).where(Ticket.id == ticket))
    expected = f"/api/orders/{order_id}/tickets.pdf"
    context, page = await _signed_in_page(chromium_browser, live_server, door.fan)
    try:
        await page.goto("/me/tickets")
        link = page.locator(f".ticket[data-ticket-id='{ticket}'] .print a.pdf")
        await expect(link).to_be_visible()
        assert await link.get_attribute("href") == expected
        pdf = await context.request.get(expected)  # with the page's session cookie
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        assert (await pdf.body()).startswith(b"%PDF-")
        await page.goto("/me/orders")
        await expect(page.locator(f"#orders a[href='{expected}']")).to_have_text("PDF")
    finally:
        await context.close()


async def test_the_venue_page_switches_an_event_to_phone_codes_only(
        client, sessionmaker, live_server, chromium_browser):
    from playwright.async_api import expect

    door = await make_door(client)
    context, page = await _signed_in_page(chromium_browser, live_server, door.setup.admin)
    try:
        await page.goto("/venue")
        button = page.locator("#venues button", has_text="printed + phone codes")
        await button.click()
        await expect(page.locator("#venues button", has_text="phone code only")).to_be_visible()
        assert await page.locator("#error").text_content() == ""
        async with sessionmaker() as session:
            event = await session.get(Event, door.event_id)
        assert event is not None and event.static_codes_allowed is False
    finally:
        await context.close()

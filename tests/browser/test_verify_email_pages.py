"""In a real browser: a verified-only drop's page says where the link went and resends it;
the mailed link's page verifies on its button (through the CSRF-checked POST), after which
the drop page takes the fan into the line."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mail.models import OutboxMessage
from tests.support.api import create_drop_setup, sign_up

pytestmark = pytest.mark.browser

TOKEN = re.compile(r"/verify-email#token=(\S+)")


async def _newest_token(sessionmaker, email: str) -> str:
    async with sessionmaker() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.to_address == email,
                                        OutboxMessage.kind == "verify_email")
            .order_by(OutboxMessage.created_at.desc()).limit(1))
    assert row is not None
    found = TOKEN.search(row.text_body)
    assert found is not None, row.text_body
    return found.group(1)


async def test_unverified_fan_resends_verifies_and_then_joins(
        client, sessionmaker, live_server, chromium_browser) -> None:
    from playwright.async_api import expect

    setup = await create_drop_setup(client, requires_verified_email=True)
    fan = await sign_up(client)
    context = await chromium_browser.new_context(base_url=live_server.url)
    try:
        signed_in = await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})
        assert signed_in.ok
        page = await context.new_page()
        await page.goto(f"/drops/{setup.drop_id}")
        await expect(page.locator("#room")).to_have_attribute("data-state", "unverified")
        await expect(page.locator("#unverified")).to_have_text(
            f"Verify your email address to join this drop; we sent a link to "
            f"{fan.email[0]}***@example.test")
        await page.locator("#resend").click()
        await expect(page.locator("#resend-result")).to_have_text(
            "A new link is on its way: check your inbox.")

        token = await _newest_token(sessionmaker, fan.email)
        # The token rides in the fragment: no URL the browser requests carries it (so no
        # access log or Referer can), only the confirming POST's body.
        urls: list[str] = []
        page.on("request", lambda request: urls.append(request.url))
        await page.goto(f"/verify-email#token={token}")
        # Loading the page verified nothing, and the token left the address bar.
        await expect(page.locator("#verify-button")).to_be_enabled()
        assert "#" not in page.url
        me = await context.request.get("/api/me")
        assert (await me.json())["email_verified"] is False
        await page.locator("#verify-button").click()
        await expect(page.locator("#verify-result")).to_have_text(
            f"Thank you: {fan.email} is verified.")
        me = await context.request.get("/api/me")
        assert (await me.json())["email_verified"] is True
        assert urls and not [url for url in urls if token in url]

        await page.goto(f"/drops/{setup.drop_id}")
        await expect(page.locator("#room")).to_have_attribute("data-state", "waiting")
    finally:
        await context.close()


async def test_the_verify_page_without_a_token_says_so(live_server, chromium_browser) -> None:
    from playwright.async_api import expect

    context = await chromium_browser.new_context(base_url=live_server.url)
    try:
        page = await context.new_page()
        await page.goto("/verify-email")
        await expect(page.locator("#verify-error")).to_have_text(
            "This link has no token; open the link from the email again.")
        await expect(page.locator("#verify-button")).to_be_disabled()
    finally:
        await context.close()

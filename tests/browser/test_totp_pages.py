"""In a real browser: turn on two-factor authentication at /account/security, with pyotp
(an RFC 6238 implementation that is not the product's) reading the key off the page and
computing the codes; then sign in on /login, where a wrong code is refused and the
right one signs in."""

from __future__ import annotations

import pytest

from tests.support.api import sign_up
from tests.support.totp_codes import clear_of_step_edge, code

pytestmark = pytest.mark.browser


async def test_enrol_on_the_security_page_then_sign_in_with_a_code(
        client, live_server, chromium_browser) -> None:
    from playwright.async_api import expect

    fan = await sign_up(client)
    context = await chromium_browser.new_context(base_url=live_server.url)
    try:
        page = await context.new_page()
        # The pages run under the strict CSP: no violation and no script error on the way.
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda message: problems.append(message.text)
                if "Content Security Policy" in message.text else None)
        await page.goto("/login?next=/account/security")
        await page.locator("#login input[name=email]").fill(fan.email)
        await page.locator("#login input[name=password]").fill(fan.password)
        await page.locator("#login button").click()
        await page.wait_for_url("**/account/security")
        await expect(page.locator("#totp-status")).to_have_text(
            "Two-factor authentication is off.")

        await page.locator("#totp-start").click()
        secret_box = page.locator("#totp-secret")
        await expect(secret_box).not_to_be_empty()
        secret = (await secret_box.text_content() or "").strip()
        assert (await page.locator("#totp-uri").get_attribute("href") or "").startswith(
            "otpauth://totp/TicketQ:")
        clear_of_step_edge()
        await page.locator("#totp-confirm input[name=code]").fill(code(secret, -1))
        await page.locator("#totp-confirm button").click()
        await expect(page.locator("#totp-recovery-codes li")).to_have_count(10)
        await expect(page.locator("#totp-status")).to_have_text(
            "Two-factor authentication is on (10 recovery codes left).")

        await context.clear_cookies()
        await page.goto("/login")
        await page.locator("#login input[name=email]").fill(fan.email)
        await page.locator("#login input[name=password]").fill(fan.password)
        await page.locator("#login button").click()
        await expect(page.locator("#login-totp")).to_be_visible()
        assert not [c for c in await context.cookies() if c["name"] == "tq_session"]
        right = {code(secret, offset) for offset in (-1, 0, 1)}
        wrong = next(c for c in ("123456", "654321", "000000") if c not in right)
        await page.locator("#login-totp input[name=code]").fill(wrong)
        await page.locator("#login-totp button").click()
        await expect(page.locator("#login-totp-error")).to_have_text(
            "the two-factor code is wrong or already used")
        await page.locator("#login-totp input[name=code]").fill(code(secret))
        await page.locator("#login-totp button").click()
        await page.wait_for_url(live_server.url + "/")
        me = await context.request.get("/api/me")
        assert me.ok and (await me.json())["id"] == fan.id
        assert not problems, problems
    finally:
        await context.close()

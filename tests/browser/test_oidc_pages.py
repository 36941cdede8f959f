"""In a real browser: the login page's "Sign in with Google" goes to a real local OpenID
Connect provider (node-oidc-provider standing in for Google), whose login form the fan
fills; they come back to TicketQ signed in, to the page they started from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.embedded import free_port
from tests.support import services as test_services
from tests.support.api import unique_email
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, OidcProvider, oidc_provider_process
from tests.support.processes import RunningProcess, gateway_process, service_env

pytestmark = pytest.mark.browser


@pytest.fixture
def oidc_site(services: test_services.TestServices
              ) -> Iterator[tuple[RunningProcess, OidcProvider]]:
    """A gateway process configured for the provider, and the provider (started second:
    it must know the gateway's callback address; the gateway reads its discovery later)."""
    provider_port = free_port()
    env = service_env(services.redis_url, services.database_url,
                      TICKETQ_OIDC_GOOGLE_ISSUER=f"http://127.0.0.1:{provider_port}",
                      TICKETQ_OIDC_GOOGLE_CLIENT_ID=CLIENT_ID,
                      TICKETQ_OIDC_GOOGLE_CLIENT_SECRET=CLIENT_SECRET)
    logs = services.folder / "logs"
    with gateway_process(env, logs) as gateway, oidc_provider_process(
            logs, port=provider_port,
            redirect_uris=[f"{gateway.url}/api/auth/oidc/google/callback"]) as provider:
        yield gateway, provider


async def test_sign_in_with_the_provider_lands_signed_in(oidc_site, chromium_browser) -> None:
    from playwright.async_api import expect

    gateway, provider = oidc_site
    email = unique_email("oidc-browser")
    context = await chromium_browser.new_context(base_url=gateway.url)
    try:
        page = await context.new_page()
        await page.goto("/login?next=/me/orders")
        await page.get_by_role("link", name="Sign in with Google").click()
        # The provider's own page: its development login form.
        await page.wait_for_url(f"{provider.issuer}/**")
        await page.locator("input[name=login]").fill(email)
        await page.locator("input[name=password]").fill("any password")
        await page.get_by_role("button", name="Sign-in").click()
        await page.wait_for_url(f"{gateway.url}/me/orders")
        await expect(page.locator("h1")).to_have_text("My orders")
        me = await context.request.get("/api/me")
        assert me.ok, await me.text()
        body = await me.json()
        assert body["email"] == email and body["email_verified"] is True
        cookies = {cookie["name"] for cookie in await context.cookies(gateway.url)}
        assert "tq_session" in cookies
    finally:
        await context.close()

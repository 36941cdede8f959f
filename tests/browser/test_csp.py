"""The browser side of gateway/csrf.py, gateway/security_headers.py and safe_next:

- pages run under the strict CSP with no violation (fan, venue and door pages);
- a page served from a second local port (same site, other origin) cannot pause a drop
  with the venue's cookie, while the dashboard's own buttons still can;
- sign-in does not follow a ?next= that leaves the site.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.api import Account, create_drop_setup, sign_up
from tests.support.processes import RunningProcess

pytestmark = pytest.mark.browser

# Chromium reports each blocked inline script or style as a securitypolicyviolation
# event; the page forwards them to the console, where the test collects them.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
});
"""


class Violations:
    def __init__(self, page: Any) -> None:
        self.seen: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.seen.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            self.seen.append(text)


async def _context(browser: Any, live_server: RunningProcess) -> Any:
    context = await browser.new_context(base_url=live_server.url)
    await context.add_init_script(REPORT_VIOLATIONS)
    return context


async def _sign_in(context: Any, account: Account) -> None:
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": account.email, "password": account.password}
    )
    assert signed_in.ok


async def test_the_checker_sees_a_violation(chromium_browser, live_server):
    """The listener works: an inline script added at run time is blocked and reported."""
    from playwright.async_api import expect

    context = await _context(chromium_browser, live_server)
    try:
        page = await context.new_page()
        violations = Violations(page)
        await page.goto("/login")
        await page.evaluate("""() => { const s = document.createElement("script");
            s.textContent = "document.title = 'injected'"; document.body.append(s); }""")
        await expect(page.locator("#login")).to_be_visible()
        assert await page.title() != "injected"
        assert any("script-src" in seen for seen in violations.seen), violations.seen
    finally:
        await context.close()


async def test_fan_pages_sign_in_queue_and_list_tickets_without_violations(
    client, sessionmaker, live_server, chromium_browser
):
    from playwright.async_api import expect

    from tests.scanner.factory import Door, add_scanner, issue

    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    await issue(sessionmaker, Door(setup=setup, scanner=await add_scanner(client, setup), fan=fan))
    context = await _context(chromium_browser, live_server)
    try:
        page = await context.new_page()
        violations = Violations(page)
        # A next= that would leave the site: sign-in lands on our home page instead.
        await page.goto("/login?next=/%5Cevil.example/x")
        await page.fill("#login input[name=email]", fan.email)
        await page.fill("#login input[name=password]", fan.password)
        await page.click("#login button[type=submit]")
        await page.wait_for_url(f"{live_server.url}/")
        await expect(page.locator("h1")).to_have_text("Upcoming events")
        # Joining is a cookie-authenticated POST: it carries the CSRF token.
        await page.goto(f"/drops/{setup.drop_id}")
        await expect(page.locator("#room")).to_have_attribute("data-state", "waiting")
        await expect(page.locator("#connection")).to_have_text("live")
        await page.goto(f"/drops/{setup.drop_id}/buy")
        await expect(page.locator("#buy")).to_have_attribute("data-state", "nopass")
        await expect(page.locator("[data-show=choose]")).to_be_hidden()  # buy.css applies
        await page.goto("/me/tickets")
        await expect(page.locator("#tickets .ticket .qr svg")).to_have_count(1)
        await page.goto("/me/orders")
        await page.goto("/")
        assert violations.seen == []
    finally:
        await context.close()


async def test_the_other_next_payload_stays_on_the_site(client, live_server, chromium_browser):
    fan = await sign_up(client)
    context = await _context(chromium_browser, live_server)
    try:
        page = await context.new_page()
        await page.goto("/login?next=/%09/evil.example/x")
        await page.fill("#login input[name=email]", fan.email)
        await page.fill("#login input[name=password]", fan.password)
        await page.click("#login button[type=submit]")
        await page.wait_for_url(f"{live_server.url}/")
    finally:
        await context.close()


async def test_door_page_signs_in_without_violations(client, live_server, chromium_browser):
    from playwright.async_api import expect

    from tests.scanner.factory import add_scanner

    setup = await create_drop_setup(client)
    scanner = await add_scanner(client, setup)
    context = await _context(chromium_browser, live_server)
    try:
        page = await context.new_page()
        violations = Violations(page)
        response = await page.goto("/scan")
        assert response is not None and "camera=(self)" in response.headers["permissions-policy"]
        await page.fill("#login-form input[name=email]", scanner.email)
        await page.fill("#login-form input[name=password]", scanner.password)
        await page.click("#login-form button[type=submit]")
        await page.wait_for_selector(f"#event option[value='{setup.event_id}']", state="attached")
        await expect(page.locator("#setup")).to_be_visible()
        assert violations.seen == []
    finally:
        await context.close()


@contextlib.contextmanager
def other_origin(html: str) -> Iterator[str]:
    """A page on a second local port: same site as the gateway, another origin."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/attack.html"
    finally:
        server.shutdown()
        server.server_close()


STEAL_AND_POST = """async (target) => {
  const stolen = (document.cookie.match(/tq_csrf=([^;]+)/) || [])[1] || "";
  await fetch(target, {method: "POST", mode: "no-cors", credentials: "include",
                       headers: {"X-CSRF-Token": stolen}});
  let corsAllowed = true;
  try {
    await fetch(target, {method: "POST", credentials: "include",
                         headers: {"X-CSRF-Token": stolen}});
  } catch (error) { corsAllowed = false; }
  return {stolen: stolen !== "", corsAllowed};
}"""


async def test_a_page_on_another_port_cannot_pause_but_the_dashboard_can(
    client, live_server, chromium_browser
):
    from playwright.async_api import expect

    setup = await create_drop_setup(client)
    target = f"{live_server.url}/api/drops/{setup.drop_id}/pause"

    async def state() -> str:
        drop = await client.get(f"/api/drops/{setup.drop_id}", headers=setup.admin.headers)
        value: str = drop.json()["state"]
        return value

    before = await state()
    assert before != "paused"
    attack = f'<form id="attack" method="post" action="{target}"><input name="x" value="1"></form>'
    context = await _context(chromium_browser, live_server)
    try:
        await _sign_in(context, setup.admin)
        page = await context.new_page()
        violations = Violations(page)
        await page.goto(f"/venue/drops/{setup.drop_id}")  # gets the tq_csrf cookie
        await expect(page.locator("#phase")).not_to_have_text("…")
        with other_origin(attack) as attack_url:
            await page.goto(attack_url)
            async with page.expect_response(target) as refused:
                await page.evaluate("document.getElementById('attack').submit()")
            assert (await refused.value).status == 403
            await page.wait_for_url(target)  # the refusal page has loaded; nothing pending
            assert await state() == before
            # Cookies ignore ports, so that page can even read the token; the origin
            # check still refuses, and a CORS request with the header never leaves.
            await page.goto(attack_url)
            outcome = await page.evaluate(STEAL_AND_POST, target)
            assert outcome == {"stolen": True, "corsAllowed": False}
            assert await state() == before
        await page.goto(f"/venue/drops/{setup.drop_id}")
        for button in ("pause", "resume"):
            control = f"{live_server.url}/api/drops/{setup.drop_id}/{button}"
            async with page.expect_response(control) as answer:
                await page.click(f"#{button}")
            assert (await answer.value).status == 200
            assert await state() == ("paused" if button == "pause" else before)
        assert await page.locator("#error").text_content() == ""
        await page.goto("/venue")
        await expect(page.locator("#venues .card h2")).to_have_text("Hall")
        assert violations.seen == []
    finally:
        await context.close()

"""The fan's waiting-room page in a real browser: the place falls as fans are admitted,
the page reconnects by itself, and the admitted state links into purchase."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from catalog import DEFAULT_CHALLENGE_DIFFICULTY
from core.clock import to_ms, utcnow
from core.redis_keys import DropKeys
from gateway.context import app_services
from queue_engine.passes import admit_batch
from tests.support.api import create_drop_setup, sign_up, solved_challenge
from tests.support.axe import VIEWPORTS

pytestmark = pytest.mark.browser


# The fan's journey on both viewports (the other tests here need only one).
@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_place_falls_then_the_fan_is_admitted(client, app, live_server, chromium_browser,
                                                    viewport):
    from playwright.async_api import expect

    # The proof-of-work at join on, at a new drop's default difficulty: the page solves it.
    setup = await create_drop_setup(client, admit_per_minute=600, max_active=50,
                                    challenge_difficulty=DEFAULT_CHALLENGE_DIFFICULTY)
    for _ in range(3):
        earlier = await sign_up(client)
        challenge = await solved_challenge(client, setup.drop_id, earlier)
        assert (await client.post(f"/api/drops/{setup.drop_id}/queue", headers=earlier.headers,
                                  json={"challenge": challenge})).status_code == 201
    fan = await sign_up(client)
    context = await chromium_browser.new_context(base_url=live_server.url,
                                                 viewport=VIEWPORTS[viewport])
    try:
        signed_in = await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})
        assert signed_in.ok
        page = await context.new_page()
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text)
                if message.type == "error" and "Failed to load resource" not in message.text
                else None)
        failed: list[tuple[int, str]] = []
        page.on("response", lambda response: failed.append((response.status, response.url))
                if response.status >= 400 else None)
        challenges: list[str] = []
        page.on("request", lambda request: challenges.append(request.url)
                if request.url.endswith("/challenge") else None)
        await page.goto(f"/drops/{setup.drop_id}")
        room = page.locator("#room")
        await expect(room).to_have_attribute("data-state", "waiting", timeout=20_000)
        await expect(page.locator("#position")).to_have_text("4")
        # One challenge solved (no CSP report, no error); a reload keeps the place unsolved.
        assert len(challenges) == 1 and not problems, problems
        assert [status for status, url in failed if "/api/" in url] == [422], failed
        await page.reload()
        await expect(room).to_have_attribute("data-state", "waiting")
        await expect(page.locator("#position")).to_have_text("4")
        assert len(challenges) == 1
        await expect(page.locator("#ahead")).to_have_text("3")
        await expect(page.locator("#connection")).to_have_text("live")
        # Readable at either width: nothing wider than the screen.
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        # Every seat in a cart (purchase's flag): the page says why the line stands still.
        meta = DropKeys(setup.drop_id).meta
        await app_services(app).scripts.client.hset(meta, "sold_out", "held")
        await expect(page.locator("#in-carts")).to_be_visible()
        await expect(page.locator("#wait")).to_have_text("waiting for seats to come back")
        await app_services(app).scripts.client.hdel(meta, "sold_out")
        await expect(page.locator("#in-carts")).to_be_hidden()

        async def admit_one() -> None:
            await admit_batch(app_services(app).scripts, setup.drop_id, now_ms=to_ms(utcnow()),
                              max_per_call=1)

        await admit_one()
        await expect(page.locator("#position")).to_have_text("3")
        # A network drop: the socket closes; the page reconnects on its own.
        await page.evaluate("window.ticketqQueue.socket.close()")
        await admit_one()
        await expect(page.locator("#position")).to_have_text("2")
        await expect(page.locator("#connection")).to_have_text("live")
        await admit_one()
        await expect(page.locator("#position")).to_have_text("1")
        assert int(await page.locator("#progress").get_attribute("value") or 0) == 100
        await admit_one()
        await expect(room).to_have_attribute("data-state", "admitted")
        await expect(page.locator("#buy")).to_be_visible()
        href = await page.locator("#buy").get_attribute("href") or ""
        assert href == f"/drops/{setup.drop_id}/buy"
        await expect(page.locator("#time-left")).to_have_text(re.compile(r"^(9|10):\d\d$"))
    finally:
        await context.close()


async def test_signed_out_visitors_are_asked_to_sign_in(client, live_server, chromium_browser):
    from playwright.async_api import expect

    setup = await create_drop_setup(client)
    page = await chromium_browser.new_page(base_url=live_server.url)
    await page.goto(f"/drops/{setup.drop_id}")
    await expect(page.locator("#room")).to_have_attribute("data-state", "signin")
    await expect(page.get_by_role("link", name="Sign in").last).to_have_attribute(
        "href", f"/login?next=/drops/{setup.drop_id}")


OPEN_SOCKET = """url => new Promise(resolve => {
  const socket = new WebSocket(url);
  socket.onmessage = event => resolve("message " + event.data);
  socket.onclose = event => resolve(event.code + " " + event.reason);
})"""


async def test_a_page_on_another_origin_cannot_open_the_fans_socket(client, live_server,
                                                                   chromium_browser):
    """Cross-site WebSocket hijacking in a real browser: a page on the same site but
    another port (so the SameSite=Lax session cookie rides along) opens the fan's socket;
    the gateway sees its Origin and closes it before saying anything."""
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    assert (await client.post(f"/api/drops/{setup.drop_id}/queue",
                              headers=fan.headers)).status_code == 201
    context = await chromium_browser.new_context(base_url=live_server.url)
    try:
        signed_in = await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})
        assert signed_in.ok
        page = await context.new_page()
        socket_url = f"{live_server.url.replace('http', 'ws', 1)}/ws/drops/{setup.drop_id}/queue"
        with page_elsewhere(live_server.url) as elsewhere:
            await page.goto(elsewhere)
            outcome = await page.evaluate(OPEN_SOCKET, socket_url)
        assert outcome.startswith("4403 cross-origin"), outcome
        # The same browser, on our own page, is the fan: the socket speaks.
        await page.goto(f"/drops/{setup.drop_id}/buy")
        assert (await page.evaluate(OPEN_SOCKET, socket_url)).startswith("message ")
    finally:
        await context.close()


@contextmanager
def page_elsewhere(our_url: str) -> Iterator[str]:
    """A real page on our host but another port: another origin of the same site. (A
    Playwright-routed page will not do: Chromium then counts it as a public address and
    blocks its requests to loopback, which would hide the attack.)"""
    class Prize(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>Win a prize</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    host = our_url.split("//", 1)[1].rsplit(":", 1)[0]
    server = ThreadingHTTPServer((host, 0), Prize)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/prize"
    finally:
        server.shutdown()
        server.server_close()

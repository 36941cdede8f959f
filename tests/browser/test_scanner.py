"""The door app in a real browser: a fake camera shows a real ticket QR; Valid, then Duplicate.

The QR is decoded by jsQR as npm installed it (node_modules, served under /static/vendor/):
the page is kept from using the browser's own BarcodeDetector so the test cannot pass without it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Ticket
from tests.browser.scanner_fixtures import chromium_args, chromium_or_skip, qr_video
from tests.scanner.factory import Door, issue, live_payload, make_door
from tests.support.axe import VIEWPORTS
from tests.support.pdf_qr import page_qr_payloads
from tests.support.processes import RunningProcess

pytestmark = pytest.mark.browser

DECODER_URL = "/static/vendor/jsqr/jsQR.js"
# Chromium on Android or macOS has a QR BarcodeDetector, which the page prefers.
WITHOUT_BARCODE_DETECTOR = "delete window.BarcodeDetector;"


async def _fresh_payload(api: httpx.AsyncClient, door: Door, ticket: str) -> str:
    """The live gateway's current code, taken early in its period: online scans accept it
    for at least ~20 s more (current step and the next), plenty for a browser to scan it."""
    code = await api.get(f"/api/me/tickets/{ticket}/code", headers=door.fan.headers)
    if code.json()["refresh_in_ms"] < 8000:
        await asyncio.sleep(code.json()["refresh_in_ms"] / 1000 + 0.2)
    return await live_payload(api, door.fan, ticket)


OFFLINE_VERDICTS = """async (codes) => {
  const setup = JSON.parse(localStorage.getItem('tq.door.setup'));
  const bundle = JSON.parse(localStorage.getItem(`tq.door.bundle.${setup.eventId}`));
  const out = [];
  for (const code of codes) {
    const book = { bundle, keys: await TicketQOffline.importKeys(bundle),
                   revoked: new Set(bundle.revoked), inside: new Set() };
    out.push((await TicketQOffline.check(code, book)).result);
  }
  return out;
}"""


# The printed code's verdict where the event accepts printed codes, then where it does not.
PRINTED_VERDICTS = """async (codes) => {
  const setup = JSON.parse(localStorage.getItem('tq.door.setup'));
  const stored = JSON.parse(localStorage.getItem(`tq.door.bundle.${setup.eventId}`));
  const out = [];
  for (const allowed of [true, false]) {
    const bundle = { ...stored, static_codes_allowed: allowed };
    for (const code of codes) {
      const book = { bundle, keys: await TicketQOffline.importKeys(bundle),
                     revoked: new Set(bundle.revoked), inside: new Set() };
      out.push((await TicketQOffline.check(code, book)).result);
    }
  }
  return out;
}"""


def _relabel_as_printed(text: str) -> str:
    """A phone code with byte 0 set to 'printed' and its rotating code zeroed: the attack."""
    raw = bytearray(base64.b32decode(text + "=" * (-len(text) % 8)))
    raw[0], raw[91:94] = 2, bytes(3)
    return base64.b32encode(bytes(raw)).decode().rstrip("=")


def _tamper(text: str, index: int) -> str:
    raw = bytearray(base64.b32decode(text + "=" * (-len(text) % 8)))
    raw[index] ^= 0x01
    return base64.b32encode(bytes(raw)).decode().rstrip("=")


@contextlib.asynccontextmanager
async def _browser(video: Path) -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_or_skip(),
                                                   args=chromium_args(video))
        try:
            yield browser
        finally:
            await browser.close()


# The door's journey on both viewports: staff scan on phones, some on a laptop's camera.
@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_door_app_scans_valid_then_duplicate(
        live_server: RunningProcess, sessionmaker: async_sessionmaker[AsyncSession],
        tmp_path: Path, viewport: str) -> None:
    chromium_or_skip()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as api:
        door = await make_door(api, sessionmaker)
        [ticket] = await issue(sessionmaker, door)
        # Signed by the live gateway's own key ring, with the current rotating code.
        payload = await _fresh_payload(api, door, ticket)
    video = qr_video(payload, tmp_path / "ticket.y4m")

    async with _browser(video) as browser:
        context = await browser.new_context(  # type: ignore[attr-defined]
            viewport=VIEWPORTS[viewport], base_url=live_server.url)
        await context.add_init_script(WITHOUT_BARCODE_DETECTOR)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        decoder_statuses: list[int] = []
        page.on("response", lambda response: decoder_statuses.append(response.status)
                if response.url.split("?")[0].endswith(DECODER_URL) else None)
        await page.goto("/scan")
        await page.fill("#login-form input[name=email]", door.scanner.email)
        await page.fill("#login-form input[name=password]", door.scanner.password)
        await page.click("#login-form button[type=submit]")
        await page.wait_for_selector(f"#event option[value='{door.event_id}']", state="attached")
        await page.select_option("#event", str(door.event_id))
        await page.fill("#gate", "Main gate")
        await page.click("#start")

        result = page.locator("#result")
        await page.wait_for_selector("#result[data-result='valid']", timeout=20_000)
        assert (await page.text_content("#result-word")) == "Valid"
        assert "Fan" in (await page.text_content("#result-detail") or "")
        assert (await page.text_content("#admitted-count")) == "1"
        status = await page.text_content("#camera-status") or ""
        await result.click()  # staff taps for the next person; the same QR is still in view

        await page.wait_for_selector("#result[data-result='duplicate']", timeout=20_000)
        assert (await page.text_content("#result-word")) == "Duplicate"
        detail = await page.text_content("#result-detail") or ""
        assert "Main gate" in detail
        assert (await page.text_content("#admitted-count")) == "1"
        assert errors == []
        assert status == "Scanning (jsQR)" and decoder_statuses == [200]
        await context.close()


async def test_door_app_without_the_decoder_says_so_and_takes_manual_codes(
        live_server: RunningProcess, sessionmaker: async_sessionmaker[AsyncSession],
        tmp_path: Path) -> None:
    """As on a checkout where `make install` has not run: node_modules/jsqr is missing."""
    chromium_or_skip()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as api:
        door = await make_door(api, sessionmaker)
        [ticket] = await issue(sessionmaker, door)
        code = await api.get(f"/api/me/tickets/{ticket}/code", headers=door.fan.headers)
        manual_code = code.json()["manual_code"]
    video = qr_video(manual_code, tmp_path / "ticket.y4m")  # in view, but nothing can read it

    async with _browser(video) as browser:
        context = await browser.new_context(  # type: ignore[attr-defined]
            base_url=live_server.url)
        await context.add_init_script(WITHOUT_BARCODE_DETECTOR)
        await context.route(f"**{DECODER_URL}*", lambda route: route.fulfill(status=404))
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto("/scan")
        await page.fill("#login-form input[name=email]", door.scanner.email)
        await page.fill("#login-form input[name=password]", door.scanner.password)
        await page.click("#login-form button[type=submit]")
        await page.wait_for_selector(f"#event option[value='{door.event_id}']", state="attached")
        await page.select_option("#event", str(door.event_id))
        await page.click("#start")

        await page.wait_for_selector("#camera-status:text('QR decoder not installed')")
        assert "make install" in (await page.text_content("#camera-status") or "")
        await page.fill("#manual", manual_code)
        await page.click("#manual-form button[type=submit]")
        await page.wait_for_selector("#result[data-result='valid']", timeout=20_000)
        assert errors == []
        await context.close()


async def test_door_app_admits_offline_then_uploads_and_survives_a_reload(
        live_server: RunningProcess, sessionmaker: async_sessionmaker[AsyncSession],
        tmp_path: Path) -> None:
    from scanner.models import CheckIn

    chromium_or_skip()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as api:
        door = await make_door(api, sessionmaker)
        [ticket] = await issue(sessionmaker, door)
        payload = await live_payload(api, door.fan, ticket)
        async with sessionmaker() as session:
            order_id = await session.scalar(select(Ticket.order_id).where(Ticket.id == ticket))
        pdf = await api.get(f"/api/orders/{order_id}/tickets.pdf", headers=door.fan.headers)
        [[printed]] = page_qr_payloads(pdf.content)
    video = qr_video(payload, tmp_path / "ticket.y4m")

    async with _browser(video) as browser:
        # bypass_csp lets Playwright evaluate its wait predicates; the app runs under the CSP.
        context = await browser.new_context(  # type: ignore[attr-defined]
            base_url=live_server.url, bypass_csp=True)
        page = await context.new_page()
        await page.goto("/scan?offline=1")
        await page.fill("#login-form input[name=email]", door.scanner.email)
        await page.fill("#login-form input[name=password]", door.scanner.password)
        await page.click("#login-form button[type=submit]")
        await page.wait_for_selector(f"#event option[value='{door.event_id}']", state="attached")
        await page.select_option("#event", str(door.event_id))
        await page.click("#start")

        # Verified in the browser: Ed25519 signature against the bundle's public key.
        await page.wait_for_selector("#result[data-result='valid']", timeout=20_000)
        assert "Checked offline" in (await page.text_content("#result-detail") or "")
        assert (await page.text_content("#queued-count")) == "1"
        async with sessionmaker() as session:
            assert await session.get(CheckIn, ticket) is None  # nothing uploaded yet

        # The in-browser check refuses tampered codes just as the server does.
        verdicts = await page.evaluate(OFFLINE_VERDICTS, [
            payload, _tamper(payload, 40), _tamper(payload, 5), _tamper(payload, 0),
            payload[:100], "HELLO"])
        assert verdicts == ["valid", "invalid", "invalid", "invalid", "invalid", "invalid"]
        # The PDF's printed code: admitted offline only where the bundle allows printed
        # codes; a phone code relabelled as printed never verifies.
        printed_verdicts = await page.evaluate(PRINTED_VERDICTS,
                                               [printed, _relabel_as_printed(payload)])
        assert printed_verdicts == ["valid", "invalid", "invalid", "invalid"]

        await page.locator("#result").click()
        await page.uncheck("#force-offline")
        await page.wait_for_function("document.getElementById('queued-count').textContent === '0'",
                                     timeout=20_000)
        async with sessionmaker() as session:
            row = await session.get(CheckIn, ticket)
            assert row is not None and row.source == "offline"

        # The service worker keeps the app: with the network gone, a reload still opens it.
        controlled = await page.evaluate(
            "async () => { await navigator.serviceWorker.ready;"
            " return navigator.serviceWorker.controller !== null; }")
        if not controlled:  # first visit: the worker takes over from the next load
            await page.reload()
            await page.wait_for_selector("#scanner:not([hidden])")
        await context.set_offline(True)
        await page.reload()
        await page.wait_for_selector("#scanner:not([hidden])", timeout=20_000)
        assert (await page.text_content("#net")) == "offline"
        await context.close()

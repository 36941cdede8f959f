"""Issue 13 for door staff: every result screen readable (AA contrast, fits 360 px, axe
clean), both admitted counters move at once, and a mistyped code says "does not match"."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.browser.scanner_fixtures import chromium_or_skip
from tests.scanner.factory import issue, make_door, set_status
from tests.support.axe import VIEWPORTS, blocking_violations
from tests.support.processes import RunningProcess

pytestmark = pytest.mark.browser

SCREENS = {**VIEWPORTS, "narrow": {"width": 360, "height": 740}}

# WCAG 2 contrast of an element's text against the overlay's background.
CONTRAST = """(selector) => {
  const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => v / 255)
    .map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const fg = lum(rgb(getComputedStyle(document.querySelector(selector)).color));
  const bg = lum(rgb(getComputedStyle(document.getElementById('result')).backgroundColor));
  return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
}"""


async def _type(page: object, code: str, result: str) -> None:
    await page.fill("#manual", code)  # type: ignore[attr-defined]
    await page.click("#manual-form button[type=submit]")  # type: ignore[attr-defined]
    await page.wait_for_selector(  # type: ignore[attr-defined]
        f"#result[data-result='{result}']", timeout=20_000)


@pytest.mark.parametrize("screen", SCREENS)
async def test_each_result_screen_is_readable_and_counters_move_at_once(
        screen: str, live_server: RunningProcess,
        sessionmaker: async_sessionmaker[AsyncSession], chromium_browser: object) -> None:
    chromium_or_skip()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as api:
        door = await make_door(api, sessionmaker)
        ticket, refunded = await issue(sessionmaker, door, count=2)
        codes = {}
        for ticket_id in (ticket, refunded):
            code = await api.get(f"/api/me/tickets/{ticket_id}/code", headers=door.fan.headers)
            codes[ticket_id] = code.json()["manual_code"]
        await set_status(sessionmaker, refunded, "refunded")
    # Same ticket prefix, digits that are nobody's code: a typo at the door.
    live = codes[ticket]
    typo = f"{live[:9]}{(int(live[9:]) + 500_000) % 1_000_000:06d}"

    context = await chromium_browser.new_context(  # type: ignore[attr-defined]
        viewport=SCREENS[screen], base_url=live_server.url, bypass_csp=True)
    page = await context.new_page()
    await page.goto("/scan")
    await page.fill("#login-form input[name=email]", door.scanner.email)
    await page.fill("#login-form input[name=password]", door.scanner.password)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector(f"#event option[value='{door.event_id}']", state="attached")
    assert await blocking_violations(page) == [], "setup screen"
    await page.select_option("#event", str(door.event_id))
    await page.click("#start")
    await page.wait_for_function("document.getElementById('event-count').textContent === '0'")

    for code, result in ((codes[ticket], "valid"), (codes[ticket], "duplicate"),
                         (typo, "invalid"), (codes[refunded], "refunded")):
        await _type(page, code, result)
        if result == "valid":  # no poll: both counters show the admission straight away
            assert await page.text_content("#admitted-count") == "1"
            assert await page.text_content("#event-count") == "1"
        if result == "invalid":
            assert "code does not match" in (await page.text_content("#result-detail") or "")
        for part in ("#result-word", "#result-detail", "#result .hint"):
            ratio = await page.evaluate(CONTRAST, part)
            assert ratio >= 4.5, f"{result} {part}: {ratio:.2f}"
        overflow = await page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth,"
            " document.getElementById('result-word').scrollWidth,"
            " document.getElementById('result-word').clientWidth]")
        assert overflow[0] <= overflow[1] and overflow[2] <= overflow[3], (result, overflow)
        assert await blocking_violations(page) == [], result
        await page.locator("#result").click()
    await context.close()

"""`make screenshots`: every page of the demo, desktop and phone, in one folder.

A reviewer opens `screenshots/index.html` and sees all pages side by side (issue 13's
quality bar) instead of clicking through a demo. It starts its own demo stack
(ticketq.demo.demo_stack) under TICKETQ_HOME/screenshots on a free loopback port, with
sales open at once so the demo fan is admitted and reaches the buy page; it adds one
lottery drop to the demo event (the seed has none) and photographs each page as the
persona who uses it. The whole run is bounded (RUN_TIMEOUT_S) and stops by itself.

Playwright (a test dependency, installed by `make install`) drives Debian's chromium.
`inspect`, when given, is called with each page as it is photographed: the test suite
runs axe-core there, so every page on both viewports is checked in the same walk.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from core.embedded import free_port
from core.settings import Settings
from ticketq.demo import DEMO_PASSWORD, DemoStack, demo_stack

CHROMIUM = "/usr/bin/chromium"
# Headless and quiet: no sandbox (containers, root), no calls home. The browser tests use
# the same flags (tests/browser/conftest.py).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# The two viewports every page is shown (and checked for accessibility) on.
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PERSONAS = {"fan": "fan@ticketq.demo", "venue": "venue@ticketq.demo",
            "door": "door@ticketq.demo"}
RUN_TIMEOUT_S = 240.0
STEP_TIMEOUT_MS = 20_000
# Pages keep sockets and polls open, so "network idle" is a hint, never a wait to fail on.
SETTLE_TIMEOUT_MS = 3_000


@dataclass(frozen=True)
class DemoIds:
    """What the pages are about: the seeded sale and the lottery drop added to it."""

    event_id: int
    drop_id: int
    lottery_drop_id: int


@dataclass(frozen=True)
class Screen:
    """One page as one persona sees it (None: signed out). `ready` is a CSS selector that
    is visible once the page's script has filled it in; `clip` photographs only that
    element's band of the page, full width."""

    name: str
    persona: str | None
    path: Callable[[DemoIds], str]
    ready: str | None = None
    clip: str | None = None


# In order: the fan's waiting room admits the demo fan before the buy page is shown.
SCREENS: tuple[Screen, ...] = (
    Screen("home", None, lambda ids: "/", "main h1"),
    Screen("event", None, lambda ids: f"/drops/{ids.drop_id}", "#room[data-state=signin]"),
    Screen("login", None, lambda ids: "/login", "form"),
    Screen("not-found", None, lambda ids: "/no-such-page"),
    Screen("waiting-room", "fan", lambda ids: f"/drops/{ids.drop_id}",
           "#room[data-state=admitted]"),
    Screen("buy", "fan", lambda ids: f"/drops/{ids.drop_id}/buy", "#buy[data-state=choose]"),
    Screen("lottery", "fan", lambda ids: f"/drops/{ids.lottery_drop_id}/lottery"),
    Screen("my-tickets", "fan", lambda ids: "/me/tickets"),
    Screen("my-orders", "fan", lambda ids: "/me/orders"),
    Screen("account", "fan", lambda ids: "/account"),
    Screen("security", "fan", lambda ids: "/account/security"),
    Screen("venue-home", "venue", lambda ids: "/venue", "#venues table, #venues a"),
    Screen("venue-event", "venue", lambda ids: f"/venue/events/{ids.event_id}"),
    Screen("drop-dashboard", "venue", lambda ids: f"/venue/drops/{ids.drop_id}"),
    Screen("dashboard-records", "venue", lambda ids: f"/venue/drops/{ids.drop_id}",
           "#audit-entries td:not([colspan])", clip="#records"),
    Screen("lottery-dashboard", "venue",
           lambda ids: f"/venue/drops/{ids.lottery_drop_id}/lottery"),
    Screen("door-setup", "door", lambda ids: "/scan", "#setup"),
)
# Shown after door-setup: a mistyped ticket code, as the door sees the answer.
DOOR_RESULT = "door-result"


def expected_files() -> list[str]:
    """Every PNG a run writes, `<page>-<viewport>.png`."""
    names = [screen.name for screen in SCREENS] + [DOOR_RESULT]
    return [f"{name}-{viewport}.png" for name in names for viewport in VIEWPORTS]


# Called with the page and its file name (`<page>-<viewport>.png`) once it is photographed.
Inspect = Callable[[Any, str], Awaitable[None]]


def take_screenshots(settings: Settings, out: Path, inspect: Inspect | None = None) -> list[Path]:
    """Start a demo stack, photograph every page on every viewport into `out` (with an
    index.html), stop the stack. Returns the PNGs written."""
    out.mkdir(parents=True, exist_ok=True)
    stack_settings = settings.replace(home=settings.home / "screenshots")
    # Loopback only, on a free port: a running `make demo` keeps its own.
    with demo_stack(stack_settings, host="127.0.0.1", port=free_port(),
                    sales_open_in=timedelta(0)) as stack:
        written = asyncio.run(asyncio.wait_for(_photograph(stack, out, inspect), RUN_TIMEOUT_S))
    (out / "index.html").write_text(index_html(written), encoding="utf-8")
    return written


async def _photograph(stack: DemoStack, out: Path, inspect: Inspect | None) -> list[Path]:
    from playwright.async_api import async_playwright

    ids = await _add_lottery_drop(stack)
    written: list[Path] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for viewport_name, viewport in VIEWPORTS.items():
                pages = {persona: await _signed_in_page(browser, stack.base_url, viewport,
                                                        persona)
                         for persona in (None, *PERSONAS)}
                for screen in SCREENS:
                    page = pages[screen.persona]
                    target = out / f"{screen.name}-{viewport_name}.png"
                    await _shoot(page, screen.path(ids), target, screen.ready, screen.clip)
                    written.append(target)
                    if inspect is not None:
                        await inspect(page, target.name)
                door = await _door_result(pages["door"],
                                          out / f"{DOOR_RESULT}-{viewport_name}.png")
                written.append(door)
                if inspect is not None:
                    await inspect(pages["door"], door.name)
                for page in pages.values():
                    await page.context.close()
        finally:
            await browser.close()
    return written


async def _signed_in_page(browser: Any, base_url: str, viewport: dict[str, int],
                          persona: str | None) -> Any:
    context = await browser.new_context(base_url=base_url, viewport=viewport)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    if persona is not None:
        signed_in = await context.request.post("/api/auth/login", data={
            "email": PERSONAS[persona], "password": DEMO_PASSWORD})
        if not signed_in.ok:
            raise RuntimeError(f"the demo {persona} could not sign in: {signed_in.status}")
    return await context.new_page()


async def _shoot(page: Any, path: str, target: Path, ready: str | None,
                 clip: str | None) -> None:
    await page.goto(path)
    await _settle(page, ready)
    if clip is None:
        await page.screenshot(path=str(target), full_page=True, animations="disabled")
        return
    box = await page.locator(clip).bounding_box()
    if box is None:
        raise RuntimeError(f"{path}: {clip} is not shown")
    # Page coordinates (full_page), the whole width: the band of the page it sits in.
    scroll_y = await page.evaluate("window.scrollY")
    width = page.viewport_size["width"]
    await page.screenshot(path=str(target), full_page=True, animations="disabled", clip={
        "x": 0, "y": box["y"] + scroll_y, "width": width, "height": box["height"]})


async def _settle(page: Any, ready: str | None) -> None:
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    if ready is not None:
        await page.locator(ready).first.wait_for(state="visible")
    try:
        await page.wait_for_load_state("networkidle", timeout=SETTLE_TIMEOUT_MS)
    except PlaywrightTimeout:
        pass  # a page that polls or streams never idles; what it shows now is its state


async def _door_result(page: Any, target: Path) -> Path:
    """The door's answer to a mistyped code (a real ticket needs a purchase first)."""
    await page.goto("/scan")
    await _settle(page, "#setup")
    await page.locator("#start").click()
    await page.locator("#manual").fill("0000-000000")
    await page.locator("#manual").press("Enter")
    await _settle(page, "#result:not([hidden])")
    await page.screenshot(path=str(target), full_page=True, animations="disabled")
    return target


async def _add_lottery_drop(stack: DemoStack) -> DemoIds:
    """A lottery drop on the demo event, made through the venue API as the venue would."""
    seeded = stack.seeded
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=15) as api:
        login = await api.post("/api/auth/login", json={
            "email": PERSONAS["venue"], "password": DEMO_PASSWORD})
        login.raise_for_status()
        api.cookies.clear()  # the bearer token speaks for the venue, no CSRF dance
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        now = datetime.now().astimezone()
        created = await api.post("/api/drops", headers=headers, json={
            "event_id": seeded["event_id"], "mode": "lottery",
            "prequeue_opens_at": (now - timedelta(minutes=5)).isoformat(),
            "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + timedelta(days=2)).isoformat(),
            "admit_per_minute": 60, "max_active": 20, "session_seconds": 600,
        })
        created.raise_for_status()
        lottery_drop_id = created.json()["id"]
        configured = await api.put(f"/api/drops/{lottery_drop_id}/lottery", headers=headers,
                                   json={"draw_at": (now + timedelta(days=2, hours=1)).isoformat(),
                                         "max_quantity_per_entry": 2})
        configured.raise_for_status()
    return DemoIds(seeded["event_id"], seeded["drop_id"], lottery_drop_id)


def index_html(pngs: list[Path]) -> str:
    """One page showing every screenshot, a row per page, desktop beside phone."""
    by_page: dict[str, list[Path]] = {}
    for png in pngs:
        by_page.setdefault(png.stem.rsplit("-", 1)[0], []).append(png)
    rows = "\n".join(
        f"<section><h2>{html.escape(page)}</h2><div class=row>"
        + "".join(f'<figure><a href="{html.escape(png.name)}"><img src="{html.escape(png.name)}"'
                  f' alt="{html.escape(png.stem)}" loading=lazy></a>'
                  f"<figcaption>{html.escape(png.stem.rsplit('-', 1)[1])}</figcaption></figure>"
                  for png in shots)
        + "</div></section>"
        for page, shots in by_page.items())
    # A local file for reviewers, not a served page: the gateway's CSP does not apply.
    return f"""<!doctype html>
<html lang=en><meta charset=utf-8><title>TicketQ screenshots</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1rem; background: #f4f4f4; }}
.row {{ display: flex; gap: 1rem; align-items: flex-start; }}
figure {{ margin: 0; background: #fff; padding: .5rem; }}
img {{ width: 480px; border: 1px solid #ccc; }}
figure:nth-child(2) img {{ width: 195px; }}
</style>
<h1>TicketQ: every page, desktop and phone</h1>
{rows}
"""

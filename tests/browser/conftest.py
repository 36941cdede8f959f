"""A headless Debian chromium driven by Playwright, for the browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.browser.scanner_fixtures import chromium_or_skip
from ticketq.screenshots import CHROMIUM_ARGS


@pytest.fixture
async def chromium_browser() -> AsyncIterator[Any]:
    """Skips when chromium is missing (fails instead with TICKETQ_REQUIRE_BROWSER=1)."""
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()

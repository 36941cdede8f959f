"""axe-core on the pages, desktop and phone (issue 13's quality bar): no serious or
critical violation. Pages join PAGES as their journeys get browser tests of their own."""

from __future__ import annotations

import pytest

from tests.support.axe import VIEWPORTS, blocking_violations

pytestmark = pytest.mark.browser

# Pages a signed-out visitor reaches.
PUBLIC_PAGES = ["/", "/no-such-page"]


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_public_pages_have_no_serious_violation(live_server, chromium_browser,
                                                      viewport):
    context = await chromium_browser.new_context(base_url=live_server.url,
                                                 viewport=VIEWPORTS[viewport])
    try:
        page = await context.new_page()
        found = {}
        for path in PUBLIC_PAGES:
            await page.goto(path)
            await page.wait_for_load_state("networkidle")
            if violations := await blocking_violations(page):
                found[path] = violations
        assert found == {}
    finally:
        await context.close()

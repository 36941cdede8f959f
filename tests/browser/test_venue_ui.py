"""axe-core on the venue's pages (issue 13's quality bar), desktop and phone: venue home,
an event's page, a direct and a lottery drop's dashboard, and the lottery venue page.
No serious or critical violation, with the data each page shows loaded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.scanner.factory import issue, make_door
from tests.support.api import create_drop_setup
from tests.support.axe import VIEWPORTS, blocking_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_venue_pages_have_no_serious_violation(client, sessionmaker, live_server,
                                                     chromium_browser, viewport):
    from playwright.async_api import expect

    door = await make_door(client)
    await issue(sessionmaker, door)  # a paid order: the Orders table has a row
    setup = door.setup
    lottery = await create_drop_setup(client, admin=setup.admin, mode="lottery",
                                      opens_in=timedelta(hours=1))
    context = await chromium_browser.new_context(base_url=live_server.url,
                                                 viewport=VIEWPORTS[viewport])
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": setup.admin.email, "password": setup.admin.password})
    assert signed_in.ok
    pages = {
        "/venue": "#venues .card h2",
        f"/venue/events/{door.event_id}": "#tiers tr",
        f"/venue/drops/{setup.drop_id}": "#orders tr",
        f"/venue/drops/{lottery.drop_id}": "#draw-state",
        f"/venue/drops/{lottery.drop_id}/lottery": "#config-form",
    }
    try:
        page = await context.new_page()
        found = {}
        for path, loaded in pages.items():
            await page.goto(path)
            await expect(page.locator(loaded).first).to_be_visible()
            await page.wait_for_load_state("networkidle")
            if violations := await blocking_violations(page):
                found[path] = violations
        assert not found, "\n".join(f"{path}: {line}" for path, lines in found.items()
                                     for line in lines)
    finally:
        await context.close()

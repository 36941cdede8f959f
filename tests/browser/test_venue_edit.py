"""Editing on the venue's event page in a real browser, desktop and phone: the event's
details in the venue's timezone, a tier's capacity and price, the price field locked
with its reason once a fan holds a seat, a refusal shown under its form; axe after."""

from __future__ import annotations

import pytest

from core.clock import to_ms
from gateway.context import app_services
from tests.purchase.passes import grant_pass
from tests.support.api import create_drop_setup, sign_up
from tests.support.axe import VIEWPORTS, blocking_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_the_event_and_its_tiers_are_edited_on_its_page(app, client, live_server,
                                                              chromium_browser, viewport):
    from playwright.async_api import expect

    setup = await create_drop_setup(client)
    ga, vip = setup.tier_ids["GA"], setup.tier_ids["VIP"]
    fan = await sign_up(client, "edit-cart")
    services = app_services(app)
    admission, _ = await grant_pass(services.redis, services.settings.secret_key,
                                    setup.drop_id, fan.id, now_ms=to_ms(services.clock()))
    hold = await client.post(f"/api/drops/{setup.drop_id}/holds",
                             headers={**fan.headers, "X-Admission-Pass": admission},
                             json={"items": [{"tier_id": ga, "quantity": 1}]})
    assert hold.status_code == 201, hold.text

    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-GB",
                                                 viewport=VIEWPORTS[viewport])
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": setup.admin.email, "password": setup.admin.password})
    assert signed_in.ok
    page = await context.new_page()
    try:
        await page.goto(f"/venue/events/{setup.event_id}")
        details = page.locator("#event-form")
        await expect(details.locator("input[name=title]")).to_have_value("Show")
        await details.locator("input[name=title]").fill("Renamed show")
        await details.locator("textarea[name=description]").fill("Doors at 19:00")
        # Typed on the venue's wall clock (Europe/Paris, summer: UTC+2), whatever the browser's.
        await details.locator("input[name=starts_at]").fill("2031-06-01T20:00")
        await details.locator("input[name=ends_at]").fill("2031-06-01T23:00")
        await details.locator("button").click()
        await expect(page.locator("#event-note")).to_have_text("Details saved.")
        await expect(page.locator("#event-title")).to_have_text("Renamed show")
        await expect(details.locator("input[name=starts_at]")).to_have_value("2031-06-01T20:00")

        # The held tier's price is locked, with the reason next to it.
        price = page.locator(f"#tier-edit-{ga}-price")
        await expect(price).to_be_disabled()
        await expect(page.locator(f"#tier-edit-{ga}-price-why")).to_contain_text(
            "0 sold, 1 in carts")
        await page.locator(f"#tier-edit-{ga}-capacity").fill("150")
        await page.locator(f"form[data-tier-id='{ga}'] button").click()
        await expect(page.locator(f"#tier-edit-{ga}-note")).to_have_text("Tier saved.")
        await expect(page.locator("#tiers")).to_contain_text("150")

        await expect(page.locator(f"#tier-edit-{vip}-price")).to_be_enabled()
        await page.locator(f"#tier-edit-{vip}-price").fill("12000")
        await page.locator(f"form[data-tier-id='{vip}'] button").click()
        await expect(page.locator(f"#tier-edit-{vip}-note")).to_have_text("Tier saved.")
        await expect(page.locator("#tiers")).to_contain_text("€120.00")

        # A refusal is printed under the form that caused it.
        await page.locator(f"#tier-edit-{vip}-name").fill("GA")
        await page.locator(f"form[data-tier-id='{vip}'] button").click()
        await expect(page.locator(f"#tier-edit-{vip}-note")).to_contain_text(
            "already has a tier named 'GA'")
        await expect(page.locator("#error")).to_be_hidden()
        assert await blocking_violations(page) == []
    finally:
        await context.close()
    event = (await client.get(f"/api/events/{setup.event_id}")).json()
    assert (event["title"], event["description"]) == ("Renamed show", "Doors at 19:00")
    assert event["starts_at"].startswith("2031-06-01T18:00:00")
    tiers = {tier["id"]: tier for tier in event["tiers"]}
    assert (tiers[ga]["capacity"], tiers[ga]["price_cents"]) == (150, 5000)
    assert (tiers[vip]["name"], tiers[vip]["price_cents"]) == ("VIP", 12000)

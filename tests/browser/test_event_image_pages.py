"""The event's picture in a real browser: the venue uploads it from its event page and sees
the preview; the home card, the sale page and the fan's ticket then show it (decoded, in
its fixed box); Remove takes it off every page. Also issue 13's `/?date=bad`: the home page
in HTML with the message beside the filters, and axe on a home card with a picture."""

from __future__ import annotations

import io
import secrets
from typing import Any

import pytest
from PIL import Image

from tests.scanner.factory import issue, make_door
from tests.support.api import Account
from tests.support.axe import blocking_violations

pytestmark = pytest.mark.browser


def poster_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 120), (30, 90, 200)).save(out, format="PNG")
    return out.getvalue()


async def _signed_in(chromium_browser: Any, live_server: Any, account: Account) -> tuple[Any, Any]:
    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-US")
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": account.email, "password": account.password})
    assert signed_in.ok
    return context, await context.new_page()


async def _decoded(image: Any) -> bool:
    """The picture is in view and the browser decoded it (lazy ones load once scrolled to)."""
    await image.scroll_into_view_if_needed()
    await image.page.wait_for_function("(img) => img.complete", arg=await image.element_handle())
    width: int = await image.evaluate("(img) => img.naturalWidth")
    return width > 0


async def _titled(client: Any, door: Any) -> str:
    """A title only this test's event has, so the home page can be filtered to its card."""
    title = f"Poster night {secrets.token_hex(4)}"
    renamed = await client.patch(f"/api/events/{door.event_id}", headers=door.setup.admin.headers,
                                 json={"title": title})
    assert renamed.status_code == 200, renamed.text
    return title


async def test_a_venue_uploads_a_picture_every_page_shows_it_and_remove_takes_it_off(
        client, sessionmaker, live_server, chromium_browser):
    from playwright.async_api import expect

    door = await make_door(client)
    await issue(sessionmaker, door)
    title = await _titled(client, door)
    venue, page = await _signed_in(chromium_browser, live_server, door.setup.admin)
    fan, fan_page = await _signed_in(chromium_browser, live_server, door.fan)
    try:
        await page.goto(f"/venue/events/{door.event_id}")
        await expect(page.locator("#image-none")).to_be_visible()
        await expect(page.locator("#image-remove")).to_be_hidden()
        await page.set_input_files("#image-file", files=[
            {"name": "poster.png", "mimeType": "image/png", "buffer": poster_png()}])
        await page.get_by_role("button", name="Upload picture").click()
        await expect(page.locator("#image-note")).to_have_text("Picture saved.")
        preview = page.locator("#image-preview")
        await expect(preview).to_be_visible()
        assert await _decoded(preview)

        await fan_page.goto(f"/?q={title}")
        card_image = fan_page.locator(f"article[data-event-id='{door.event_id}'] img.event-image")
        await expect(card_image).to_have_attribute("alt", title)
        await expect(card_image).to_have_attribute("loading", "lazy")
        assert await _decoded(card_image)
        # The fixed box: as wide as the card, 16:6 tall, whatever the picture's own shape.
        box = await card_image.bounding_box()
        assert box is not None and abs(box["height"] - box["width"] * 6 / 16) < 2
        assert await fan_page.locator(f"article[data-event-id='{door.event_id}'] "
                                      ".event-banner").count() == 0

        await fan_page.goto(f"/drops/{door.setup.drop_id}")
        for selector in ("#room-image", "#facts-image"):
            await expect(fan_page.locator(selector)).to_have_attribute("alt", title)
            assert await _decoded(fan_page.locator(selector))

        await fan_page.goto("/me/tickets")
        pass_image = fan_page.locator(".ticket .pass-image").first
        await expect(pass_image).to_have_attribute("alt", title)
        assert await _decoded(pass_image)

        await page.get_by_role("button", name="Remove picture").click()
        await expect(page.locator("#image-note")).to_have_text("Picture removed.")
        await expect(preview).to_be_hidden()
        await expect(page.locator("#image-none")).to_be_visible()
        await fan_page.goto(f"/?q={title}")
        card = fan_page.locator(f"article[data-event-id='{door.event_id}']")
        await expect(card.locator(".event-banner")).to_be_visible()
        await expect(card.locator("img")).to_have_count(0)
        await fan_page.goto(f"/drops/{door.setup.drop_id}")
        await expect(fan_page.locator("#room-image, #facts-image")).to_have_count(0)
    finally:
        await venue.close()
        await fan.close()


async def test_a_file_that_is_no_picture_gets_the_reason_beside_the_control(
        client, live_server, chromium_browser):
    from playwright.async_api import expect

    door = await make_door(client)
    context, page = await _signed_in(chromium_browser, live_server, door.setup.admin)
    try:
        await page.goto(f"/venue/events/{door.event_id}")
        await expect(page.locator("#image-none")).to_be_visible()
        await page.set_input_files("#image-file", files=[
            {"name": "fake.png", "mimeType": "image/png", "buffer": b"not a picture at all"}])
        await page.get_by_role("button", name="Upload picture").click()
        note = page.locator("#image-note")
        await expect(note).to_contain_text("not a complete image/png image")
        await expect(note).to_have_class("small mt-2 mb-0 text-danger")
        await expect(page.locator("#image-preview")).to_be_hidden()
    finally:
        await context.close()


async def test_a_bad_home_filter_is_the_html_page_with_a_message(live_server, chromium_browser):
    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-US")
    try:
        page = await context.new_page()
        response = await page.goto("/?date=bad")
        assert response is not None and response.status == 200
        assert response.headers["content-type"].startswith("text/html")
        message = page.locator("#filter-problems")
        assert "Date must be a day as YYYY-MM-DD" in await message.inner_text()
        assert await message.get_attribute("role") == "alert"
        assert await page.locator("#event-search").is_visible()
    finally:
        await context.close()


async def test_home_with_a_picture_card_has_no_serious_axe_violation(
        client, live_server, chromium_browser):
    from playwright.async_api import expect

    door = await make_door(client)
    title = await _titled(client, door)
    put = await client.put(f"/api/events/{door.event_id}/image", content=poster_png(),
                           headers={**door.setup.admin.headers, "Content-Type": "image/png"})
    assert put.status_code == 204, put.text
    context = await chromium_browser.new_context(base_url=live_server.url, locale="en-US")
    try:
        page = await context.new_page()
        await page.goto(f"/?q={title}")
        image = page.locator(f"article[data-event-id='{door.event_id}'] img.event-image")
        await expect(image).to_be_visible()
        assert await _decoded(image)
        assert await blocking_violations(page) == []
    finally:
        await context.close()

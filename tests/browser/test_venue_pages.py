"""The venue's pages in a real browser: launch a drop from /venue, then watch and
pause it from its dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import create_drop_setup, invitation_link, sign_up

pytestmark = pytest.mark.browser


async def _signed_in_page(chromium_browser, live_server, account):
    context = await chromium_browser.new_context(base_url=live_server.url)
    signed_in = await context.request.post(
        "/api/auth/login", data={"email": account.email, "password": account.password}
    )
    assert signed_in.ok
    return context, await context.new_page()


async def test_dashboard_shows_the_line_and_pauses_it(client, live_server, chromium_browser):
    from playwright.async_api import expect

    setup = await create_drop_setup(client, opens_in=timedelta(minutes=5))
    for _ in range(2):
        fan = await sign_up(client)
        joined = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
        assert joined.status_code == 201
    context, page = await _signed_in_page(chromium_browser, live_server, setup.admin)
    try:
        await page.goto(f"/venue/drops/{setup.drop_id}")
        await expect(page.locator("#phase")).to_have_text("prequeue")
        await expect(page.locator("#prequeue")).to_have_text("2")
        await expect(page.locator("#tiers tr")).to_have_count(2)
        page.on("dialog", lambda dialog: dialog.accept())
        await page.locator("#pacing input[name=admit_per_minute]").fill("90")
        await page.locator("#pacing button").click()
        await expect(page.locator("#configured")).to_have_text("90")
        await page.locator("#close").click()
        await expect(page.locator("#phase")).to_have_text("closed")
    finally:
        await context.close()
    drop = (await client.get(f"/api/drops/{setup.drop_id}")).json()
    assert drop["admit_per_minute"] == 90 and drop["state"] == "closed"


async def test_venue_page_launches_an_event_with_a_tier(client, live_server, chromium_browser):
    from playwright.async_api import expect

    setup = await create_drop_setup(client)
    context, page = await _signed_in_page(chromium_browser, live_server, setup.admin)
    try:
        await page.goto("/venue")
        await expect(page.locator("#venues .card h2")).to_have_text("Hall")
        event_form = page.locator("#new-event")
        await event_form.locator("input[name=title]").fill("Launch night")
        await event_form.locator("input[name=starts_at]").fill("2031-05-01T20:00")
        await event_form.locator("input[name=ends_at]").fill("2031-05-01T23:00")
        await event_form.locator("button").click()
        await expect(page.locator("#venues")).to_contain_text("Launch night [published]")
        tier_form = page.locator("#new-tier")
        await tier_form.locator("select[name=event_id]").select_option(label="Launch night (Hall)")
        await tier_form.locator("input[name=name]").fill("Balcony")
        await tier_form.locator("button").click()
        await expect(page.locator("#venues")).to_contain_text("Balcony 500")
        assert await page.locator("#error").text_content() == ""
    finally:
        await context.close()


async def test_dashboard_refunds_an_order_once(client, sessionmaker, live_server,
                                               chromium_browser):
    """The Orders table's Refund button; the order was paid without Stripe (this gateway has
    none), so the refund is the ledger's part: order and ticket refunded, one audit row."""
    from playwright.async_api import expect
    from sqlalchemy import func, select

    from core.models import AuditEntry
    from tests.scanner.factory import issue, make_door

    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    context, page = await _signed_in_page(chromium_browser, live_server, door.setup.admin)
    try:
        await page.goto(f"/venue/drops/{door.setup.drop_id}")
        row = page.locator("#orders tr")
        await expect(row).to_have_count(1)
        await expect(row.locator("td").nth(4)).to_have_text("paid")
        await page.locator("#refund-reason").fill("double booking")
        page.on("dialog", lambda dialog: dialog.accept())
        await row.locator("button.refund").click()
        await expect(page.locator("#refund-note")).to_contain_text("refunded.")
        await expect(row.locator("td").nth(4)).to_have_text("refunded")
        await expect(row.locator("button.refund")).to_have_count(0)
    finally:
        await context.close()
    listed = await client.get(f"/api/events/{door.event_id}/orders",
                              headers=door.setup.admin.headers)
    [order] = listed.json()["orders"]
    assert order["state"] == "refunded" and order["reason"].endswith("double booking")
    assert order["tickets"] == [{"id": ticket, "tier_id": door.setup.tier_ids["GA"],
                                 "status": "refunded"}]
    async with sessionmaker() as session:
        audits = await session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "order.refund", AuditEntry.subject_id == order["id"]))
    assert audits == 1
async def test_an_invitation_is_accepted_from_its_email_link(
    client, sessionmaker, live_server, chromium_browser
):
    from playwright.async_api import expect
    from sqlalchemy import update

    from core.models import User, Venue

    setup = await create_drop_setup(client, published=False)
    async with sessionmaker() as session:
        await session.execute(update(Venue).where(Venue.id == setup.venue_id)
                              .values(approval="pending"))
        await session.commit()
    door = await sign_up(client, "door")
    async with sessionmaker() as session:  # what the verification link does: see invitations
        await session.execute(update(User).where(User.id == door.id)
                              .values(email_verified_at=datetime.now(UTC)))
        await session.commit()
    invited = await client.post(f"/api/venues/{setup.venue_id}/staff",
                                headers=setup.admin.headers,
                                json={"email": door.email, "role": "scanner"})
    assert invited.status_code == 202
    owner_context, owner_page = await _signed_in_page(chromium_browser, live_server, setup.admin)
    try:
        await owner_page.goto("/venue")
        card = owner_page.locator("#venues .card")
        await expect(card).to_contain_text("waiting for a platform admin's approval")
        await expect(card.locator("ul.pending li")).to_contain_text(f"{door.email} as scanner")
    finally:
        await owner_context.close()

    invitation_id, token = await invitation_link(sessionmaker, door.email)
    context, page = await _signed_in_page(chromium_browser, live_server, door)
    try:
        await page.goto("/venue")  # without the email's link: decline only
        offer = page.locator("#my-invitations li")
        await expect(offer).to_contain_text("Hall (Lyon) invites you as scanner")
        await expect(offer.locator("button.accept")).to_have_count(0)
        await page.goto(f"/venue#invitation={invitation_id}&token={token}")
        await page.reload()
        await page.locator("#my-invitations button.accept").click()
        await expect(page.locator("#venues .card h2")).to_have_text("Hall")
        await expect(page.locator("#my-invitations")).to_be_hidden()
        assert await page.locator("#error").text_content() == ""
    finally:
        await context.close()
    mine = (await client.get("/api/me/venues", headers=door.headers)).json()["venues"]
    assert [(v["id"], v["role"]) for v in mine] == [(setup.venue_id, "scanner")]


async def test_a_platform_admin_approves_a_pending_venue_from_the_venue_page(
    client, sessionmaker, live_server, chromium_browser
):
    from playwright.async_api import expect
    from sqlalchemy import update

    from core.models import User, Venue

    setup = await create_drop_setup(client, published=False)
    operator = await sign_up(client, "operator")
    async with sessionmaker() as session:
        await session.execute(update(Venue).where(Venue.id == setup.venue_id)
                              .values(approval="pending"))
        await session.execute(update(User).where(User.id == operator.id).values(role="admin"))
        await session.commit()
    context, page = await _signed_in_page(chromium_browser, live_server, operator)
    try:
        await page.goto("/venue")
        # A platform admin sees every venue; this one's card carries its id.
        card = page.locator(f"#venues .card[data-venue-id='{setup.venue_id}']")
        await expect(card).to_contain_text("waiting for a platform admin's approval")
        await card.locator("button.approve").click()
        await expect(card.locator("button.approve")).to_have_count(0)
        await expect(card).to_contain_text("you are admin · approved")
        assert await page.locator("#error").text_content() == ""
    finally:
        await context.close()
    async with sessionmaker() as session:
        venue = await session.get(Venue, setup.venue_id)
        assert venue is not None and venue.approval == "approved"

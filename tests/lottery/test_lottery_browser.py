"""The lottery pages in a real browser: a fan enters from the page, the venue sees the entry."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import stripe
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lottery.models import LotteryEntry
from mail.models import OutboxMessage
from tests.browser.conftest import chromium_browser  # noqa: F401 (fixture)
from tests.lottery.conftest import STRIPE_KEY, make_lottery
from tests.support import services as test_services
from tests.support.api import sign_up
from tests.support.card_field import DECLINED_CARD, GOOD_CARD, THREE_D_SECURE_CARD, type_card
from tests.support.processes import RunningProcess, gateway_process, service_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def stripe_gateway(services: test_services.TestServices,
                   localstripe_url: str) -> Iterator[RunningProcess]:
    env = service_env(services.redis_url, services.database_url, STRIPE_API_KEY=STRIPE_KEY,
                      STRIPE_API_BASE=localstripe_url)
    with gateway_process(env, services.folder / "logs") as proc:
        yield proc


async def test_a_fan_enters_from_the_page_and_the_venue_sees_it(
    stripe_gateway: RunningProcess, chromium_browser,  # noqa: F811
) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=stripe_gateway.url, timeout=30) as http:
        lottery = await make_lottery(http, max_quantity=2)
        fan = await sign_up(http, "browser")
    context = await chromium_browser.new_context(base_url=stripe_gateway.url,
                                                 viewport={"width": 390, "height": 844})
    try:
        signed_in = await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})
        assert signed_in.ok
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"/drops/{lottery.drop_id}/lottery")
        await expect(page.locator("[data-field=phase]")).to_have_text("open")
        await expect(page.locator("[data-field=countdown]")).to_contain_text("closes in")
        await expect(page.locator("#entry-form-card")).to_be_visible()
        await page.fill("input[name=quantity]", "2")
        await expect(page.locator("#test-cards")).to_contain_text("4242 4242 4242 4242")
        # A declined card makes no entry and the fan can try another one.
        await type_card(page, DECLINED_CARD)
        await page.click("#entry-form button")
        await expect(page.locator("[data-field=entry-error]")).to_contain_text("declined")
        await expect(page.locator("#entry-form-card")).to_be_visible()
        await type_card(page, GOOD_CARD)
        await page.click("#entry-form button")
        await expect(page.locator("#my-entry")).to_be_visible()
        await expect(page.locator("[data-field=result]")).to_have_text("waiting for the draw")
        await expect(page.locator("[data-field=money]")).to_contain_text("held on your card")
        await expect(page.locator("#entry-form-card")).to_be_hidden()
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert errors == []
    finally:
        await context.close()

    venue = await chromium_browser.new_context(base_url=stripe_gateway.url)
    try:
        signed_in = await venue.request.post("/api/auth/login", data={
            "email": lottery.setup.admin.email, "password": lottery.setup.admin.password})
        assert signed_in.ok
        page = await venue.new_page()
        await page.goto(f"/venue/drops/{lottery.drop_id}/lottery")
        await expect(page.locator("[data-field=entries]")).to_have_text("1")
        await expect(page.locator("[data-field='money.authorised']")).to_have_text("1")
        await expect(page.locator("[data-field=commitment]")).to_have_text(
            lottery.config["commitment"])
    finally:
        await venue.close()


async def test_a_three_d_secure_card_enters_from_the_page_and_is_authorised_once(
    stripe_gateway: RunningProcess, chromium_browser,  # noqa: F811
    db: async_sessionmaker[AsyncSession], stripe_client: stripe.StripeClient,
) -> None:
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=stripe_gateway.url, timeout=30) as http:
        lottery = await make_lottery(http)
        fan = await sign_up(http, "browser3ds")
    context = await chromium_browser.new_context(base_url=stripe_gateway.url)
    try:
        signed_in = await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})
        assert signed_in.ok
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"/drops/{lottery.drop_id}/lottery")
        await expect(page.locator("#entry-form-card")).to_be_visible()
        await type_card(page, THREE_D_SECURE_CARD)
        await page.click("#entry-form button")
        # localstripe's mock draws its 3-D Secure challenge into the page.
        await page.get_by_role("button", name="Complete authentication").click()
        await expect(page.locator("#my-entry")).to_be_visible()
        await expect(page.locator("[data-field=money]")).to_contain_text("held on your card")
        await page.reload()
        await expect(page.locator("#my-entry")).to_be_visible()
        await expect(page.locator("#entry-form-card")).to_be_hidden()
        assert errors == []
    finally:
        await context.close()
    async with db() as session:
        [entry] = list(await session.scalars(
            select(LotteryEntry).where(LotteryEntry.drop_id == lottery.drop_id)))
        mails = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"lottery_entry_received:{entry.id}")))
    assert entry.status == "entered" and entry.money == "authorised"
    assert len(mails) == 1
    assert entry.payment_intent_id is not None
    intent = await stripe_client.v1.payment_intents.retrieve_async(entry.payment_intent_id)
    assert intent.status == "requires_capture" and intent.capture_method == "manual"
    assert intent.metadata["lottery_entry_id"] == entry.id

"""The whole fan journey in a real browser: admitted by the real queue, the waiting room
links to the purchase page, the fan holds GA tickets, sees the countdown, types a card
into the card field (localstripe's Stripe.js mock), pays, sees tickets; and then finds
them in the inbox, mailed by the real worker through the dev SMTP server, as a PDF whose
QR codes open the door."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from core.clock import to_ms, utcnow
from core.models import Order, Payment, Ticket, User
from core.redis_keys import DropKeys
from mail.mailbox import StoredMail
from purchase.inventory import read_stock
from queue_engine.passes import admit_batch
from tests.browser.conftest import chromium_browser  # noqa: F401 (fixture)
from tests.mail.conftest import start_dev_smtp, stop
from tests.support import services as test_services
from tests.support.api import DropSetup, create_drop_setup, sign_up
from tests.support.card_field import DECLINED_CARD, GOOD_CARD, THREE_D_SECURE_CARD, type_card
from tests.support.pdf_qr import attached_pdf, page_qr_payloads, page_texts
from tests.support.processes import RunningProcess, service_env, worker_process
from tests.support.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]

async def _holding_fan(gateway: RunningProcess, ctx: Any,
                       browser: Any) -> tuple[Any, Any, DropSetup]:
    """A fan admitted by the real queue, on the buy page, holding 2 GA tickets."""
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        setup = await create_drop_setup(http)
        fan = await sign_up(http, "browser")
        joined = await http.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
        assert joined.status_code == 201, joined.text
    start = to_ms(utcnow())
    for step in range(1, 20):
        if (await admit_batch(ctx.scripts, setup.drop_id, now_ms=start + step * 200)).admitted:
            break
    context = await browser.new_context(base_url=gateway.url,
                                        viewport={"width": 390, "height": 844})
    signed_in = await context.request.post("/api/auth/login", data={
        "email": fan.email, "password": fan.password})
    assert signed_in.ok
    page = await context.new_page()
    await page.goto(f"/drops/{setup.drop_id}")
    await expect(page.locator("#room")).to_have_attribute("data-state", "admitted")
    await page.locator("#buy").click()
    await expect(page).to_have_url(re.compile(rf"/drops/{setup.drop_id}/buy$"))  # no pass in it
    buy = page.locator("#buy")
    await expect(buy).to_have_attribute("data-state", "choose")
    await page.fill(f"input[data-tier-id='{setup.tier_ids['GA']}']", "2")
    await page.click("#hold-button")
    await expect(buy).to_have_attribute("data-state", "held")
    return context, page, setup


async def _ledger(ctx: Any, drop_id: int) -> tuple[int, int, int]:
    """(orders, succeeded payments, tickets) of the drop."""
    async with ctx.sessionmaker() as session:
        orders = await session.scalar(select(func.count()).select_from(Order).where(
            Order.drop_id == drop_id))
        paid = await session.scalar(select(func.count()).select_from(Payment).join(
            Order, Order.id == Payment.order_id).where(
            Order.drop_id == drop_id, Payment.status == "succeeded"))
        tickets = await session.scalar(select(func.count()).select_from(Ticket).join(
            Order, Order.id == Ticket.order_id).where(Order.drop_id == drop_id))
    return int(orders or 0), int(paid or 0), int(tickets or 0)


async def test_fan_types_a_card_and_buys_from_the_waiting_room(
        paying_gateway: RunningProcess, ctx, chromium_browser) -> None:  # noqa: F811
    from playwright.async_api import expect

    context, page, setup = await _holding_fan(paying_gateway, ctx, chromium_browser)
    try:
        await expect(page.locator("#countdown")).to_have_text(re.compile(r"^(9|10):\d\d$"))
        await expect(page.locator("#total")).to_have_text("€100.00")
        await expect(page.locator("#test-cards")).to_contain_text("4242 4242 4242 4242")
        await type_card(page, GOOD_CARD)
        await page.click("#pay-button")
        await expect(page.locator("#buy")).to_have_attribute("data-state", "paid")
        await expect(page.locator("#tickets li")).to_have_count(2)
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert await _ledger(ctx, setup.drop_id) == (1, 1, 2)
    finally:
        await context.close()


async def test_a_declined_card_keeps_the_seats_and_another_card_pays(
        paying_gateway: RunningProcess, ctx, chromium_browser) -> None:  # noqa: F811
    from playwright.async_api import expect

    context, page, setup = await _holding_fan(paying_gateway, ctx, chromium_browser)
    try:
        stock = await read_stock(ctx.scripts, DropKeys(setup.drop_id))
        await type_card(page, DECLINED_CARD)
        await page.click("#pay-button")
        await expect(page.locator("#message")).to_have_text(re.compile(
            r"^Your card was declined\. Try another card; your tickets are held for \d+:\d\d\.$"))
        await expect(page.locator("#buy")).to_have_attribute("data-state", "held")
        # The seats never left the fan.
        assert await read_stock(ctx.scripts, DropKeys(setup.drop_id)) == stock
        assert await _ledger(ctx, setup.drop_id) == (1, 0, 0)

        await type_card(page, GOOD_CARD)
        await page.click("#pay-button")
        await expect(page.locator("#buy")).to_have_attribute("data-state", "paid")
        await expect(page.locator("#tickets li")).to_have_count(2)
        assert await _ledger(ctx, setup.drop_id) == (1, 1, 2)
        assert await read_stock(ctx.scripts, DropKeys(setup.drop_id)) == stock
    finally:
        await context.close()


async def test_three_d_secure_is_completed_in_the_page_and_settled_once(
        paying_gateway: RunningProcess, ctx, chromium_browser) -> None:  # noqa: F811
    from playwright.async_api import expect

    context, page, setup = await _holding_fan(paying_gateway, ctx, chromium_browser)
    try:
        await type_card(page, THREE_D_SECURE_CARD)
        await page.click("#pay-button")
        # localstripe's mock draws its 3-D Secure challenge into the page.
        await page.get_by_role("button", name="Complete authentication").click()
        await expect(page.locator("#buy")).to_have_attribute("data-state", "paid")
        await expect(page.locator("#tickets li")).to_have_count(2)
        # The poll and the webhook both settle it: still one order, one charge, two tickets.
        await page.reload()
        assert await _ledger(ctx, setup.drop_id) == (1, 1, 2)
    finally:
        await context.close()


async def _order_of(ctx: Any, drop_id: int) -> tuple[str, str]:
    """(order id, its fan's email) of the drop's one order."""
    async with ctx.sessionmaker() as session:
        [(order_id, email)] = list(await session.execute(
            select(Order.id, User.email).join(User, User.id == Order.user_id)
            .where(Order.drop_id == drop_id)))
    return str(order_id), str(email)


async def _scan(gateway: RunningProcess, setup: DropSetup, payload: str) -> str:
    """The venue's door scans one code through the real scanner API; its result."""
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        scanned = await http.post("/api/scan", headers=setup.admin.headers, json={
            "payload": payload, "gate": "Main", "device_id": "journey-door",
            "nonce": uuid.uuid4().hex, "event_id": setup.event_id})
    assert scanned.status_code == 200, scanned.text
    result: str = scanned.json()["result"]
    return result


async def test_the_paid_tickets_arrive_by_mail_and_their_qr_opens_the_door(
        paying_gateway: RunningProcess, ctx, chromium_browser,  # noqa: F811
        services: test_services.TestServices, tmp_path: Path) -> None:
    from playwright.async_api import expect

    dev_smtp = start_dev_smtp(tmp_path / "mailbox")
    # As `make demo` runs it: `ticketq worker` sending over SMTP to the dev server. Its
    # environment is the paying gateway's (the same default TICKETQ_HOME, so the same
    # ticket signing key); only the mail job runs, the test's queue admits the fan.
    env = service_env(services.redis_url, services.database_url, SMTP_URL=dev_smtp.url)
    try:
        with worker_process(env, tmp_path, "journey-mail", only=("mail",)) as worker:
            context, page, setup = await _holding_fan(paying_gateway, ctx, chromium_browser)
            try:
                await type_card(page, GOOD_CARD)
                await page.click("#pay-button")
                await expect(page.locator("#buy")).to_have_attribute("data-state", "paid")
                await expect(page.locator("#tickets li")).to_have_count(2)
            finally:
                await context.close()
            order_id, fan_email = await _order_of(ctx, setup.drop_id)

            def confirmation() -> StoredMail | None:
                return next((mail for mail in dev_smtp.mailbox()
                             if mail.kind == "order_confirmation" and order_id in mail.text),
                            None)

            mail = await eventually(confirmation, timeout_s=90, interval_s=0.2,
                                    message=f"the order confirmation\n{worker.log_tail()}")
    finally:
        stop(dev_smtp.process)
    assert mail.to == fan_email
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        (f"tickets-{order_id[:8]}.pdf", "application/pdf")]
    pdf = attached_pdf(dev_smtp.folder, mail.message_id)
    assert len(page_texts(pdf)) == 2
    codes = page_qr_payloads(pdf)
    assert [len(on_page) for on_page in codes] == [1, 1]
    # The mailed codes open the door once each: Valid, then Duplicate.
    for [code] in codes:
        assert await _scan(paying_gateway, setup, code) == "valid"
        assert await _scan(paying_gateway, setup, code) == "duplicate"

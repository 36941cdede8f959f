"""In a real browser against a real gateway process: a forgotten password is reset from
the link in the demo's mailbox (/dev/mail.json, fed by the real dev SMTP server), and an
account is deleted from the account page while the ledger still balances."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.models import Order, Payment, Ticket, User
from mail.mailbox import mailbox_folder
from mail.sender import send_due
from mail.smtp import MailSettings
from purchase.ledger import issue_tickets
from tests.mail.conftest import DevSmtp, outbox, start_dev_smtp, stop  # noqa: F401 (fixture)
from tests.support import services as test_services
from tests.support.api import create_drop_setup, sign_up
from tests.support.processes import gateway_process, service_env

pytestmark = pytest.mark.browser

RESET_PATH = re.compile(r"https?://[^/\s]+(/reset\?token=\S+)")


@pytest.fixture
def mailbox_home(tmp_path: Path) -> Iterator[tuple[Path, DevSmtp]]:
    """A TICKETQ_HOME whose mail folder a real dev SMTP server writes (as in the demo)."""
    home = tmp_path / "home"
    server = start_dev_smtp(mailbox_folder(home))
    yield home, server
    stop(server.process)


@pytest.fixture
def mail_gateway(services: test_services.TestServices,
                 mailbox_home: tuple[Path, DevSmtp]) -> Iterator[str]:
    home, _ = mailbox_home
    env = service_env(services.redis_url, services.database_url, TICKETQ_HOME=str(home))
    with gateway_process(env, services.folder / "logs") as proc:
        yield proc.url


async def test_a_forgotten_password_is_reset_from_the_mailed_link(
        client, outbox, mailbox_home, mail_gateway, chromium_browser) -> None:  # noqa: F811
    from playwright.async_api import expect

    _, smtp = mailbox_home
    fan = await sign_up(client)
    context = await chromium_browser.new_context(base_url=mail_gateway)
    try:
        page = await context.new_page()
        await page.goto("/login")
        await page.locator("#forgot-password").click()
        await expect(page.locator("#reset-error")).to_have_text(
            "This link has no token; ask for a new link below.")
        await page.locator("#reset-request input[name=email]").fill(fan.email)
        await page.locator("#reset-request button").click()
        await expect(page.locator("#reset-request-result")).to_contain_text(
            "if this email has an account")

        # The worker's job delivers it over SMTP; the demo's mailbox shows it.
        settings = MailSettings(smtp_url=smtp.url, mail_from="TicketQ <t@ticketq.test>")
        assert await send_due(outbox, settings, worker_id="browser",
                              now=datetime.now(UTC) + timedelta(seconds=5)) >= 1
        mailbox = await (await context.request.get("/dev/mail.json")).json()
        [mail] = [m for m in mailbox["messages"]
                  if m["to"] == fan.email and m["kind"] == "password_reset"]
        found = RESET_PATH.search(mail["text"])
        assert found is not None, mail["text"]

        await page.goto(found.group(1))
        await expect(page.locator("#reset-button")).to_be_enabled()
        assert "token" not in page.url  # the script took it out of the address bar
        await page.locator("#reset input[name=password]").fill("my new password 2")
        await page.locator("#reset-button").click()
        await expect(page.locator("#reset-result")).to_contain_text("Your password is changed")
        await page.locator("#reset-signin").click()
        await page.locator("#login input[name=email]").fill(fan.email)
        await page.locator("#login input[name=password]").fill("my new password 2")
        await page.locator("#login button[type=submit]").click()
        await page.wait_for_url("**/account")
        await expect(page.locator("#account-email")).to_have_text(fan.email)
        await expect(page.locator("#account-link")).to_be_visible()
        old = await client.post("/api/auth/login", json={
            "email": fan.email, "password": fan.password})
        assert old.status_code == 401
        # The link works once.
        await page.goto(found.group(1))
        await page.locator("#reset input[name=password]").fill("yet another password")
        await page.locator("#reset-button").click()
        await expect(page.locator("#reset-error")).to_contain_text("used already")
    finally:
        await context.close()


async def _ledger(sessionmaker) -> tuple[int, int, int, int]:
    async with sessionmaker() as session:
        return (int(await session.scalar(select(func.count()).select_from(Order)) or 0),
                int(await session.scalar(select(func.count()).select_from(Ticket)) or 0),
                int(await session.scalar(select(func.count()).select_from(Payment)) or 0),
                int(await session.scalar(select(func.sum(Payment.amount_cents))) or 0))


async def _paid_order(sessionmaker, client, user_id: int) -> str:
    """What purchase records after a payment (as tests/support/roles.py does)."""
    setup = await create_drop_setup(client)
    tier_id = setup.tier_ids["GA"]
    async with sessionmaker() as session:
        order = Order(id=str(uuid.uuid4()), user_id=user_id, event_id=setup.event_id,
                      drop_id=setup.drop_id, items=[{"tier_id": tier_id, "name": "GA",
                                                     "quantity": 2, "unit_price_cents": 5000}],
                      total_cents=10000, currency="EUR", state="paid")
        session.add(order)
        await session.flush()
        await issue_tickets(session, order)
        session.add(Payment(order_id=order.id, stripe_payment_intent_id=f"pi_{uuid.uuid4().hex}",
                            amount_cents=10000, currency="EUR", status="succeeded"))
        await session.commit()
        return order.id


async def test_deleting_the_account_removes_the_person_and_keeps_the_ledger(
        client, sessionmaker, live_server, chromium_browser) -> None:
    from playwright.async_api import expect

    fan = await sign_up(client)
    order_id = await _paid_order(sessionmaker, client, fan.id)
    before = await _ledger(sessionmaker)
    context = await chromium_browser.new_context(base_url=live_server.url)
    try:
        assert (await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})).ok
        page = await context.new_page()
        await page.goto("/account")
        # sign_up's own sign-in and this browser's: sign the other one out from here.
        await expect(page.locator("#sessions tbody tr")).to_have_count(2)
        await expect(page.locator("#sessions .end-session")).to_have_count(1)
        await page.locator("#sessions .end-session").click()
        await expect(page.locator("#sessions-result")).to_have_text("Signed out.")
        await expect(page.locator("#sessions tbody tr")).to_have_count(1)
        assert (await client.get("/api/me", headers=fan.headers)).status_code == 401
        await page.locator("#delete select").select_option("keep")
        await page.locator("#delete input[name=password]").fill("not my password")
        await page.locator("#delete button").click()
        await expect(page.locator("#delete-result")).to_contain_text("password is wrong")
        await page.locator("#delete input[name=password]").fill(fan.password)
        await page.locator("#delete button").click()
        await expect(page.locator("#deleted")).to_have_text("Your account is deleted.")
        assert (await context.request.get("/api/me")).status == 401
    finally:
        await context.close()

    async with sessionmaker() as session:
        user = await session.get(User, fan.id)
        order = await session.get(Order, order_id)
        tickets = set(await session.scalars(select(Ticket.status).where(
            Ticket.order_id == order_id)))
    assert user is not None and user.name == "" and fan.email not in user.email
    assert user.email.endswith("@deleted.invalid") and not user.password_hash.startswith("scrypt")
    assert order is not None and order.state == "paid" and order.user_id == fan.id
    assert tickets == {"valid"}
    assert await _ledger(sessionmaker) == before


async def test_the_name_and_email_change_from_the_account_page(
        client, sessionmaker, redis, live_server, chromium_browser) -> None:
    from playwright.async_api import expect

    from core.redis_keys import RateKey, email_change_pending
    from mail.models import OutboxMessage
    from tests.support.api import unique_email

    fan = await sign_up(client)
    tag = RateKey("email-change", str(fan.id)).tag  # ids repeat across runs: a fresh count
    await redis.delete(email_change_pending(fan.id),
                       *[key async for key in redis.scan_iter(match=f"{tag}:*")])
    new_email = unique_email("moved")
    context = await chromium_browser.new_context(base_url=live_server.url)
    try:
        assert (await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})).ok
        page = await context.new_page()
        await page.goto("/account")
        await expect(page.locator("#account-2fa")).to_have_text("off")
        await expect(page.locator("#account-security")).to_have_attribute(
            "href", "/account/security")
        await expect(page.locator("#no-identities")).to_be_visible()
        await page.locator("#rename input[name=name]").fill("Ada Lovelace")
        await page.locator("#rename button").click()
        await expect(page.locator("#rename-result")).to_have_text("Name changed.")
        await expect(page.locator("#account-name")).to_have_text("Ada Lovelace")
        await page.locator("#rename input[name=name]").fill("   ")
        await page.locator("#rename button").click()
        await expect(page.locator("#rename-result")).to_contain_text("at least 1 character")
        await page.reload()
        await expect(page.locator("#account-name")).to_have_text("Ada Lovelace")

        await page.locator("#email-change input[name=new_email]").fill(new_email)
        await page.locator("#email-change input[name=password]").fill(fan.password)
        await page.locator("#email-change button").click()
        await expect(page.locator("#email-change-result")).to_contain_text(
            "we sent a link to the new address")
        await expect(page.locator("#account-email")).to_have_text(fan.email)
        async with sessionmaker() as session:
            text = await session.scalar(select(OutboxMessage.text_body).where(
                OutboxMessage.to_address == new_email,
                OutboxMessage.kind == "email_change_verify"))
        found = re.search(r"https?://[^/\s]+(/confirm-email#token=\S+)", text or "")
        assert found is not None, text
        await page.goto(found.group(1))
        await expect(page.locator("#confirm-button")).to_be_enabled()
        assert "token" not in page.url  # the script took it out of the address bar
        await page.locator("#confirm-button").click()
        await expect(page.locator("#confirm-result")).to_contain_text(new_email)
        await page.goto("/account")
        await expect(page.locator("#account-email")).to_have_text(new_email)
        await expect(page.locator("#account-verified")).to_have_text("verified")
    finally:
        await context.close()
    async with sessionmaker() as session:
        user = await session.get(User, fan.id)
    assert user is not None and user.name == "Ada Lovelace" and user.email == new_email


async def test_a_connected_google_account_is_shown_and_unlinked_never_the_last_way_in(
        client, sessionmaker, live_server, chromium_browser) -> None:
    from playwright.async_api import expect
    from sqlalchemy import update

    from accounts.oidc_accounts import NO_PASSWORD
    from accounts.passwords import hash_password
    from core.models import OidcIdentity

    fan = await sign_up(client)
    context = await chromium_browser.new_context(base_url=live_server.url)
    try:
        assert (await context.request.post("/api/auth/login", data={
            "email": fan.email, "password": fan.password})).ok
        async with sessionmaker() as session:  # signed up with Google: no password
            session.add(OidcIdentity(provider="google", subject=f"sub-{fan.id}-{fan.email}",
                                     user_id=fan.id, created_at=datetime.now(UTC)))
            await session.execute(update(User).where(User.id == fan.id)
                                  .values(password_hash=NO_PASSWORD))
            await session.commit()
        page = await context.new_page()
        await page.goto("/account")
        row = page.locator('#identities tr[data-provider="google"]')
        await expect(row).to_contain_text("Google")
        await row.locator("button.unlink").click()
        await expect(page.locator("#identities-result")).to_contain_text("set a password first")
        await expect(row).to_have_count(1)
        async with sessionmaker() as session:  # as a password reset would
            await session.execute(update(User).where(User.id == fan.id)
                                  .values(password_hash=hash_password("a new password 1")))
            await session.commit()
        await row.locator("button.unlink").click()
        await expect(page.locator("#identities-result")).to_have_text("Unlinked.")
        await expect(row).to_have_count(0)
    finally:
        await context.close()
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OidcIdentity).where(
            OidcIdentity.user_id == fan.id)) == 0

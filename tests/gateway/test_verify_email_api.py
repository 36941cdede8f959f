"""Email verification end to end: sign-up mails a link over real SMTP (the dev server), the
link's page changes nothing, its POST verifies; bad tokens are refused; verified-only drops
refuse unverified fans, then take them; resend is limited."""

from __future__ import annotations

import re

import httpx
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from accounts.verification import VerifyTokens
from core.models import User
from core.redis_keys import RateKey
from gateway.context import app_services
from mail.models import OutboxMessage
from mail.sender import send_due
from mail.smtp import MailSettings
from tests.mail.conftest import DevSmtp, dev_smtp, outbox  # noqa: F401 (fixtures)
from tests.support.api import create_drop_setup, sign_up, solved_challenge, unique_email

LINK = re.compile(r"(https?://\S+/verify-email#token=(\S+))")


async def _mailed_rows(maker: async_sessionmaker[AsyncSession], email: str
                       ) -> list[OutboxMessage]:
    async with maker() as session:
        return list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.to_address == email, OutboxMessage.kind == "verify_email")))


def _token_of(text: str) -> str:
    found = LINK.search(text)
    assert found is not None, text
    return found.group(2)


async def _verified_at(maker: async_sessionmaker[AsyncSession], user_id: int) -> object:
    async with maker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user.email_verified_at


async def _verify(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/verify-email", json={"token": token})


async def test_signup_mails_one_link_and_the_pages_button_verifies(
        client: httpx.AsyncClient, outbox: async_sessionmaker[AsyncSession],  # noqa: F811
        dev_smtp: DevSmtp) -> None:  # noqa: F811
    account = await sign_up(client)
    [row] = await _mailed_rows(outbox, account.email)
    # Sent over SMTP by the worker's job, as in production.
    settings = MailSettings(smtp_url=dev_smtp.url, mail_from="TicketQ <t@ticketq.test>",
                            claim_seconds=10)
    assert await send_due(outbox, settings, worker_id="test", now=row.created_at) >= 1
    [mail] = [m for m in dev_smtp.mailbox() if m.to == account.email]
    assert mail.kind == "verify_email"
    token = _token_of(mail.text)
    me = await client.get("/api/me", headers=account.headers)
    assert me.json()["email_verified"] is False
    # The link's page is a GET that changes nothing (mail scanners fetch it).
    page = await client.get("/verify-email")
    assert page.status_code == 200 and "verify_email.js" in page.text
    assert await _verified_at(outbox, account.id) is None
    verified = await _verify(client, token)
    assert verified.status_code == 200, verified.text
    assert verified.json() == {"email_verified": True, "email": account.email}
    first = await _verified_at(outbox, account.id)
    assert first is not None
    again = await _verify(client, token)  # twice: harmless, and the first time stays
    assert again.status_code == 200 and await _verified_at(outbox, account.id) == first
    me = await client.get("/api/me", headers=account.headers)
    assert me.json()["email_verified"] is True


async def test_signup_with_a_known_email_mails_nothing(
        client: httpx.AsyncClient, outbox: async_sessionmaker[AsyncSession]) -> None:  # noqa: F811
    account = await sign_up(client)
    again = await client.post("/api/auth/signup", json={
        "email": account.email, "password": "another password", "name": "Other"})
    assert again.status_code == 202
    assert len(await _mailed_rows(outbox, account.email)) == 1


async def test_forged_expired_foreign_and_malformed_tokens_are_refused_and_change_nothing(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        app: Starlette, monkeypatch: pytest.MonkeyPatch) -> None:
    account = await sign_up(client)
    services_settings = app_services(app).settings
    tokens = VerifyTokens.from_settings(services_settings)
    async with sessionmaker() as session:
        user = await session.get(User, account.id)
        assert user is not None
        genuine = tokens.issue(user)
    forged = genuine.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAA"
    assert (await _verify(client, forged)).status_code == 401
    assert (await _verify(client, account.token)).status_code == 401  # a bearer token
    other = genuine.replace(f"{account.id}~", f"{account.id + 1}~", 1)
    assert (await _verify(client, other)).status_code == 401  # a field changed: forged
    real = TimestampSigner.get_timestamp
    ttl = services_settings.email_verify_ttl_seconds
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - ttl - 60)
    async with sessionmaker() as session:
        user = await session.get(User, account.id)
        assert user is not None
        old = tokens.issue(user)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    expired = await _verify(client, old)
    assert expired.status_code == 410 and "expired" in expired.json()["detail"]
    for body in ({}, {"token": ""}, {"token": 5}, {"token": "x", "more": 1}):
        refused = await client.post("/api/auth/verify-email", json=body)
        assert refused.status_code == 422, (body, refused.text)
    assert await _verified_at(sessionmaker, account.id) is None
    # The account's address changes: the link mailed to the old one no longer counts.
    async with sessionmaker() as session, session.begin():
        await session.execute(update(User).where(User.id == account.id)
                              .values(email=unique_email("moved")))
    foreign = await _verify(client, genuine)
    assert foreign.status_code == 403 and "no longer uses" in foreign.json()["detail"]
    assert await _verified_at(sessionmaker, account.id) is None


async def test_a_verified_only_drop_refuses_an_unverified_fan_until_they_verify(
        client: httpx.AsyncClient, outbox: async_sessionmaker[AsyncSession]) -> None:  # noqa: F811
    setup = await create_drop_setup(client, requires_verified_email=True)
    shown = await client.get(f"/api/drops/{setup.drop_id}")
    assert shown.json()["requires_verified_email"] is True
    fan = await sign_up(client)
    refused = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert refused.status_code == 403, refused.text
    masked = fan.email[0] + "***@example.test"
    assert refused.json()["detail"] == (
        f"Verify your email address to join this drop; we sent a link to {masked}")
    polled = await client.get(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert polled.status_code == 404  # the refusal took no place
    [row] = await _mailed_rows(outbox, fan.email)
    assert (await _verify(client, _token_of(row.text_body))).status_code == 200
    joined = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert joined.status_code == 201, joined.text


async def test_an_unverified_fans_refusal_spends_neither_their_challenge_nor_a_join_slot(
        client: httpx.AsyncClient, outbox: async_sessionmaker[AsyncSession]) -> None:  # noqa: F811
    setup = await create_drop_setup(client, requires_verified_email=True, challenge_difficulty=1,
                                    join_limits={"join_limit_per_ip": 1})
    fan = await sign_up(client)
    queue = f"/api/drops/{setup.drop_id}/queue"
    solved = await solved_challenge(client, setup.drop_id, fan)
    for _ in range(3):  # over the per-address limit of 1, if a refusal counted
        refused = await client.post(queue, headers=fan.headers, json={"challenge": solved})
        assert refused.status_code == 403, refused.text
    [row] = await _mailed_rows(outbox, fan.email)
    assert (await _verify(client, _token_of(row.text_body))).status_code == 200
    joined = await client.post(queue, headers=fan.headers, json={"challenge": solved})
    assert joined.status_code == 201, joined.text


async def test_an_ordinary_drop_still_takes_an_unverified_fan_and_the_flag_can_be_set(
        client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    joined = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert joined.status_code == 201, joined.text
    changed = await client.patch(f"/api/drops/{setup.drop_id}", headers=setup.admin.headers,
                                 json={"requires_verified_email": True})
    assert changed.status_code == 200 and changed.json()["requires_verified_email"] is True
    newcomer = await sign_up(client)
    refused = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=newcomer.headers)
    assert refused.status_code == 403, refused.text
    bad = await client.patch(f"/api/drops/{setup.drop_id}", headers=setup.admin.headers,
                             json={"requires_verified_email": "yes"})
    assert bad.status_code == 422


async def test_resend_mails_a_working_link_and_is_limited_per_account(
        client: httpx.AsyncClient, outbox: async_sessionmaker[AsyncSession],  # noqa: F811
        app: Starlette) -> None:
    fan = await sign_up(client)
    services = app_services(app)
    limit = services.settings.verify_resends_per_hour
    # Each run's database starts empty, so user ids repeat across runs: clear this id's
    # counters from an earlier run within the hour.
    tag = RateKey("verify-resend", str(fan.id)).tag
    stale = [key async for key in services.redis.scan_iter(match=f"{tag}:*")]
    if stale:
        await services.redis.delete(*stale)
    answers = [await client.post("/api/auth/verify-email/resend", headers=fan.headers)
               for _ in range(limit)]
    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1
    over = await client.post("/api/auth/verify-email/resend", headers=fan.headers)
    assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
    rows = await _mailed_rows(outbox, fan.email)
    assert len(rows) >= 2  # the sign-up's and at least one resend (same-second ones dedupe)
    newest = max(rows, key=lambda r: r.created_at)
    assert (await _verify(client, _token_of(newest.text_body))).status_code == 200
    anonymous = await client.post("/api/auth/verify-email/resend")
    assert anonymous.status_code == 401

"""Password reset over HTTP against the real stack: the mailed link (read from the real
outbox), the uniform 202, single use, expiry, forgery, the limits, sessions signed out."""

from __future__ import annotations

import re

import httpx
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import User
from gateway.log_redaction import REDACTED, redact
from mail.models import OutboxMessage
from tests.support import services as test_services
from tests.support.api import Account, sign_up, unique_email
from tests.support.processes import gateway_process, service_env
from tests.support.waiting import eventually

LINK = re.compile(r"https?://\S+/reset\?token=(\S+)")


async def _reset_mails(maker: async_sessionmaker[AsyncSession], email: str
                       ) -> list[OutboxMessage]:
    async with maker() as session:
        return list(await session.scalars(
            select(OutboxMessage).where(OutboxMessage.to_address == email,
                                        OutboxMessage.kind == "password_reset")
            .order_by(OutboxMessage.created_at)))


async def _ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/auth/password-reset", json={"email": email})


async def _mailed_token(client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession],
                        email: str) -> str:
    asked = await _ask(client, email)
    assert asked.status_code == 202, asked.text
    found = LINK.search((await _reset_mails(maker, email))[-1].text_body)
    assert found is not None
    return found.group(1)


async def _confirm(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/password-reset/confirm",
                             json={"token": token, "password": password})


async def _signs_in(client: httpx.AsyncClient, email: str, password: str) -> bool:
    answer = await client.post("/api/auth/login", json={"email": email, "password": password})
    client.cookies.clear()
    return answer.status_code == 200


async def _hash(maker: async_sessionmaker[AsyncSession], account: Account) -> str:
    async with maker() as session:
        user = await session.get(User, account.id)
        assert user is not None
        return user.password_hash


async def test_known_and_unknown_emails_get_the_same_202_and_only_the_known_one_a_mail(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account = await sign_up(client)
    stranger = unique_email("nobody")
    known, unknown = await _ask(client, account.email.upper()), await _ask(client, stranger)
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    [mail] = await _reset_mails(sessionmaker, account.email)
    assert mail.subject == "Reset your TicketQ password" and "30 minutes" in mail.text_body
    assert await _reset_mails(sessionmaker, stranger) == []


async def test_the_link_resets_once_and_signs_out_every_session(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account = await sign_up(client)
    token = await _mailed_token(client, sessionmaker, account.email)
    assert (await client.get("/api/me", headers=account.headers)).status_code == 200
    page = await client.get(f"/reset?token={token}")  # the page changes nothing
    assert page.status_code == 200 and "reset_password.js" in page.text
    assert '<meta name="referrer" content="no-referrer">' in page.text
    assert await _signs_in(client, account.email, account.password)

    reset = await _confirm(client, token, "a brand new password")
    assert reset.status_code == 200, reset.text
    assert reset.json() == {"password_reset": True, "signed_out_everywhere": True,
                            "email": account.email}
    assert (await client.get("/api/me", headers=account.headers)).status_code == 401
    assert not await _signs_in(client, account.email, account.password)
    assert await _signs_in(client, account.email, "a brand new password")

    hash_after = await _hash(sessionmaker, account)
    again = await _confirm(client, token, "a third password here")
    assert again.status_code == 400 and "used already" in again.json()["detail"]
    assert await _hash(sessionmaker, account) == hash_after


async def test_a_password_change_voids_older_links(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account = await sign_up(client)
    older = await _mailed_token(client, sessionmaker, account.email)
    newer = await _mailed_token(client, sessionmaker, account.email)
    changed = await client.post("/api/me/password", headers=account.headers, json={
        "current_password": account.password, "new_password": "changed on the account page"})
    assert changed.status_code == 200, changed.text
    for token in (older, newer):
        refused = await _confirm(client, token, "someone else's choice")
        assert refused.status_code == 400, refused.text
    assert await _signs_in(client, account.email, "changed on the account page")


async def test_expired_forged_and_malformed_requests_change_nothing(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        monkeypatch: pytest.MonkeyPatch) -> None:
    account = await sign_up(client)
    before = await _hash(sessionmaker, account)
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 31 * 60)
    old = await _mailed_token(client, sessionmaker, account.email)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    expired = await _confirm(client, old, "too late for this")
    assert expired.status_code == 410 and "expired" in expired.json()["detail"]
    assert expired.headers["content-type"].startswith("application/problem+json")

    genuine = await _mailed_token(client, sessionmaker, account.email)
    forged = genuine.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAA"
    other = genuine.replace(f"{account.id}~", f"{account.id + 1}~", 1)
    for token in (forged, other, account.token, "nonsense"):
        refused = await _confirm(client, token, "an attacker's password")
        assert refused.status_code == 400, (token, refused.text)
    for body in ({}, {"token": genuine}, {"token": genuine, "password": "short"},
                 {"token": genuine, "password": "long enough", "extra": 1}, {"token": 5}):
        bad = await client.post("/api/auth/password-reset/confirm", json=body)
        assert bad.status_code == 422, (body, bad.text)
    for body in ({}, {"email": ""}, {"email": ["a@b.c"]}):
        bad = await client.post("/api/auth/password-reset", json=body)
        assert bad.status_code == 422, (body, bad.text)
    assert await _hash(sessionmaker, account) == before
    assert await _signs_in(client, account.email, account.password)


async def test_requests_are_limited_per_address_known_or_not(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account = await sign_up(client)
    for email in (account.email, unique_email("nobody")):
        answers = [(await _ask(client, email)).status_code for _ in range(4)]
        assert answers == [202, 202, 202, 429], (email, answers)
    assert len(await _reset_mails(sessionmaker, account.email)) == 3


async def test_the_mailed_token_never_reaches_the_live_gateways_log(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        services: test_services.TestServices) -> None:
    account = await sign_up(client)
    token = await _mailed_token(client, sessionmaker, account.email)
    assert redact(f"GET /reset?token={token}") == f"GET /reset?token={REDACTED}"
    env = service_env(services.redis_url, services.database_url)
    with gateway_process(env, services.folder / "logs", log_level="info") as gateway:
        async with httpx.AsyncClient(base_url=gateway.url) as http:
            assert (await http.get("/reset", params={"token": token})).status_code == 200

        async def logged() -> str | None:
            text = gateway.log()
            return text if f"/reset?token={REDACTED}" in text else None

        log_text = await eventually(logged, timeout_s=10, message="the page's request line")
    assert token not in log_text and token.split(".")[-1] not in log_text

"""The account page's changes against the real stack (Postgres, Redis, the real outbox):
the name; the email, which changes only once the new address confirms its link while the
old address is told; forged, foreign and other kinds of token refused; a taken address
answered alike and left untouched; unlinking a provider, never the last way in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.oidc_accounts import NO_PASSWORD
from accounts.verification import VerifyTokens
from core.models import OidcIdentity, User
from core.redis_client import RedisClient
from core.redis_keys import RateKey, email_change_pending
from core.settings import Settings
from mail.models import OutboxMessage
from tests.support.api import Account, sign_up, unique_email

LINK = re.compile(r"https?://\S+/confirm-email#token=(\S+)")


async def _mail(maker: async_sessionmaker[AsyncSession], to: str, kind: str
                ) -> list[OutboxMessage]:
    async with maker() as session:
        return list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.to_address == to, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.created_at)))


async def _user(maker: async_sessionmaker[AsyncSession], user_id: int) -> User:
    async with maker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user


async def _fresh(client: httpx.AsyncClient, redis: RedisClient, prefix: str = "fan"
                 ) -> Account:
    """A new account with no email change counters or request of an earlier run: each
    run's database starts empty, so user ids repeat across runs while Redis keeps them."""
    account = await sign_up(client, prefix)
    tag = RateKey("email-change", str(account.id)).tag
    stale = [key async for key in redis.scan_iter(match=f"{tag}:*")]
    await redis.delete(email_change_pending(account.id), *stale)
    return account


async def _ask(client: httpx.AsyncClient, account: Account, new_email: str,
               password: str | None = None) -> httpx.Response:
    return await client.post("/api/me/email", headers=account.headers, json={
        "new_email": new_email, "password": password or account.password})


async def _token_sent_to(maker: async_sessionmaker[AsyncSession], to: str) -> str:
    rows = await _mail(maker, to, "email_change_verify")
    assert rows, f"no email change link was sent to {to}"
    found = LINK.search(rows[-1].text_body)
    assert found is not None, rows[-1].text_body
    return found.group(1)


async def _confirm(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/email-change/confirm", json={"token": token})


async def test_renaming_changes_the_name_and_bad_names_change_nothing(
        client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    renamed = await client.patch("/api/me", headers=account.headers,
                                 json={"name": "  Ada   Lovelace "})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Ada Lovelace"
    for body in ({"name": "   "}, {"name": ""}, {"name": "x" * 201}, {},
                 {"name": "Eve", "role": "admin"}):
        bad = await client.patch("/api/me", headers=account.headers, json=body)
        assert bad.status_code == 422, (body, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
    me = (await client.get("/api/me", headers=account.headers)).json()
    assert me["name"] == "Ada Lovelace" and me["role"] == "fan"
    assert (await client.patch("/api/me", json={"name": "Anon"})).status_code == 401


async def test_the_email_changes_only_once_the_new_address_confirms(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        redis: RedisClient) -> None:
    account = await _fresh(client, redis)
    new_email = unique_email("moved")
    asked = await _ask(client, account, new_email.upper())
    assert asked.status_code == 202, asked.text
    [notice] = await _mail(sessionmaker, account.email, "email_change_notice")
    assert new_email in notice.text_body and "confirm-email" not in notice.text_body
    token = await _token_sent_to(sessionmaker, new_email)
    # Asked, not done: the account keeps its address, and the confirm page changes nothing.
    assert (await client.get("/confirm-email")).status_code == 200
    assert (await _user(sessionmaker, account.id)).email == account.email
    confirmed = await _confirm(client, token)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"email_changed": True, "email": new_email,
                                "email_verified": True}
    user = await _user(sessionmaker, account.id)
    assert user.email == new_email and user.email_verified_at is not None
    # Sessions are kept; sign-in now goes by the new address, not the old.
    me = (await client.get("/api/me", headers=account.headers)).json()
    assert me["email"] == new_email and me["email_verified"] is True
    new_login = await client.post("/api/auth/login", json={"email": new_email,
                                                           "password": account.password})
    old_login = await client.post("/api/auth/login", json={"email": account.email,
                                                           "password": account.password})
    client.cookies.clear()
    assert new_login.status_code == 200 and old_login.status_code in {401, 403}, old_login.text
    # The same link again: already done, harmless.
    again = await _confirm(client, token)
    assert again.status_code == 200 and again.json()["email"] == new_email


async def test_forged_foreign_and_other_kinds_of_token_are_refused(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings, redis: RedisClient) -> None:
    account = await _fresh(client, redis)
    first, second = unique_email("first"), unique_email("second")
    assert (await _ask(client, account, first)).status_code == 202
    stale = await _token_sent_to(sessionmaker, first)
    assert (await _ask(client, account, second)).status_code == 202
    latest = await _token_sent_to(sessionmaker, second)
    # Only the latest request's link works.
    assert (await _confirm(client, stale)).status_code == 403
    tampered = latest[:-2] + ("AA" if not latest.endswith("AA") else "BB")
    assert (await _confirm(client, tampered)).status_code == 401
    # A sign-up verification link is not an email change link.
    user = await _user(sessionmaker, account.id)
    verify_token = VerifyTokens.from_settings(settings).issue(user)
    assert (await _confirm(client, verify_token)).status_code == 401
    for body in ({}, {"token": ""}, {"token": latest, "email": first}):
        assert (await client.post("/api/auth/email-change/confirm", json=body)
                ).status_code == 422
    assert (await _user(sessionmaker, account.id)).email == account.email
    # Once the account's email changed, an older request's link is refused too.
    assert (await _confirm(client, latest)).status_code == 200
    assert (await _ask(client, account, first)).status_code == 202
    from_before = await _token_sent_to(sessionmaker, first)
    await sessionmaker_update_email(sessionmaker, account.id, unique_email("elsewhere"))
    assert (await _confirm(client, from_before)).status_code == 403


async def sessionmaker_update_email(maker: async_sessionmaker[AsyncSession], user_id: int,
                                    email: str) -> None:
    async with maker() as session:
        await session.execute(update(User).where(User.id == user_id).values(email=email))
        await session.commit()


async def test_a_taken_address_gets_the_same_answer_and_its_account_is_untouched(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        redis: RedisClient) -> None:
    account, other = await _fresh(client, redis), await _fresh(client, redis, "other")
    free = await _ask(client, account, unique_email("free"))
    taken = await _ask(client, account, other.email)
    assert taken.status_code == free.status_code == 202
    assert taken.json() == free.json()
    assert await _mail(sessionmaker, other.email, "email_change_verify") == []
    assert await _mail(sessionmaker, other.email, "email_change_notice") == []
    # The requester's own inbox cannot tell the two apart: both were notified.
    assert len(await _mail(sessionmaker, account.email, "email_change_notice")) == 2
    assert (await _user(sessionmaker, other.id)).email == other.email
    assert (await _user(sessionmaker, account.id)).email == account.email


async def test_a_wrong_password_or_a_bad_address_mails_nothing(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account = await sign_up(client)
    new_email = unique_email("nope")
    wrong = await _ask(client, account, new_email, password="not the password")
    assert wrong.status_code == 403 and "unchanged" in wrong.json()["detail"]
    for address in ("not-an-address", "a@b", "x" * 330 + "@example.test"):
        assert (await _ask(client, account, address)).status_code == 422, address
    assert await _mail(sessionmaker, new_email, "email_change_verify") == []
    assert await _mail(sessionmaker, account.email, "email_change_notice") == []
    same = await _ask(client, account, account.email.upper())
    assert same.status_code == 422 and same.json()["reason"] == "same_email"
    async with sessionmaker() as session:  # as made by "Sign in with Google": no password
        await session.execute(update(User).where(User.id == account.id)
                              .values(password_hash=NO_PASSWORD))
        await session.commit()
    no_password = await _ask(client, account, new_email, password="anything at all")
    assert no_password.status_code == 409 and no_password.json()["reason"] == "no_password"
    assert await _mail(sessionmaker, new_email, "email_change_verify") == []
    assert await _mail(sessionmaker, account.email, "email_change_notice") == []
    assert (await client.post("/api/me/email", json={"new_email": new_email,
                                                     "password": "x"})).status_code == 401


async def test_email_changes_are_rate_limited_per_account(
        client: httpx.AsyncClient, settings: Settings, redis: RedisClient) -> None:
    account = await _fresh(client, redis)
    answers = [(await _ask(client, account, unique_email("many"))).status_code
               for _ in range(settings.verify_resends_per_hour + 1)]
    assert answers[:-1] == [202] * settings.verify_resends_per_hour
    assert answers[-1] == 429


async def _link(maker: async_sessionmaker[AsyncSession], user_id: int, provider: str) -> None:
    async with maker() as session:
        session.add(OidcIdentity(provider=provider, subject=f"sub-{user_id}-{provider}",
                                 user_id=user_id, created_at=datetime.now(UTC)))
        await session.commit()


async def _links(maker: async_sessionmaker[AsyncSession], user_id: int) -> list[str]:
    async with maker() as session:
        return list(await session.scalars(select(OidcIdentity.provider).where(
            OidcIdentity.user_id == user_id)))


async def test_unlinking_a_provider_and_the_account_page_showing_it(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account = await sign_up(client)
    await _link(sessionmaker, account.id, "google")
    page = await client.get("/account", headers=account.headers)
    assert page.status_code == 200 and 'data-provider="google"' in page.text
    assert 'id="account-2fa">off' in page.text and 'href="/account/security"' in page.text
    for provider in ("github", "GOOGLE", "..%2F..", "x" * 41):
        missing = await client.delete(f"/api/me/oidc/{provider}", headers=account.headers)
        assert missing.status_code == 404, (provider, missing.text)
    unlinked = await client.delete("/api/me/oidc/google", headers=account.headers)
    assert unlinked.status_code == 200 and unlinked.json() == {"unlinked": "google"}
    assert await _links(sessionmaker, account.id) == []
    assert (await client.delete("/api/me/oidc/google", headers=account.headers)
            ).status_code == 404
    assert (await client.delete("/api/me/oidc/google")).status_code == 401


async def test_the_only_way_to_sign_in_cannot_be_unlinked(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account, other = await sign_up(client), await sign_up(client, "other")
    await _link(sessionmaker, account.id, "google")
    await _link(sessionmaker, other.id, "google")
    async with sessionmaker() as session:  # as made by "Sign in with Google": no password
        await session.execute(update(User).where(User.id == account.id)
                              .values(password_hash=NO_PASSWORD))
        await session.commit()
    refused = await client.delete("/api/me/oidc/google", headers=account.headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["reason"] == "last_sign_in_method"
    assert "set a password" in refused.json()["detail"]
    assert await _links(sessionmaker, account.id) == ["google"]
    assert await _links(sessionmaker, other.id) == ["google"]  # nobody else's link moved

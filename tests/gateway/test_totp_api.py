"""Two-factor authentication through the public API, on the real stack (Postgres, Redis),
with codes from pyotp (tests/support/totp_codes.py), never from the product's own TOTP."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.second_factor import CHALLENGE_SALT
from core.models import AuditEntry, TotpCredential
from core.signed_fields import SignedFields
from gateway.context import app_services
from tests.support.api import Account, sign_up
from tests.support.totp_codes import clear_of_step_edge, code


@dataclass
class Enrolled:
    account: Account
    secret: str
    recovery_codes: list[str]


async def enrol(client: httpx.AsyncClient, account: Account) -> Enrolled:
    """Enrol and confirm with the previous step's code, so steps 0 and +1 stay usable."""
    clear_of_step_edge()
    started = await client.post("/api/me/totp", headers=account.headers)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    assert started.json()["otpauth_uri"].startswith("otpauth://totp/TicketQ:")
    confirmed = await client.post("/api/me/totp/confirm", headers=account.headers,
                                  json={"code": code(secret, -1)})
    assert confirmed.status_code == 200, confirmed.text
    return Enrolled(account, secret, confirmed.json()["recovery_codes"])


async def challenge_of(client: httpx.AsyncClient, account: Account) -> str:
    login = await client.post("/api/auth/login",
                              json={"email": account.email, "password": account.password})
    assert login.status_code == 200, login.text
    body = login.json()
    assert body["totp_required"] is True and "token" not in body
    assert "tq_session" not in login.cookies
    challenge: str = body["challenge"]
    return challenge


def wrong(secret: str) -> str:
    right = {code(secret, offset) for offset in (-1, 0, 1)}
    return next(c for c in ("123456", "654321", "000000", "999999") if c not in right)


async def test_a_wrong_confirmation_code_changes_nothing(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    account = await sign_up(client)
    started = await client.post("/api/me/totp", headers=account.headers)
    secret = started.json()["secret"]
    refused = await client.post("/api/me/totp/confirm", headers=account.headers,
                                json={"code": wrong(secret)})
    assert refused.status_code == 422 and "wrong" in refused.json()["detail"]
    status = await client.get("/api/me/totp", headers=account.headers)
    assert status.json() == {"enabled": False, "pending": True, "recovery_codes_left": 0}
    login = await client.post("/api/auth/login",
                              json={"email": account.email, "password": account.password})
    assert "token" in login.json()  # still a one-step sign-in
    async with sessionmaker() as session:
        row = await session.get(TotpCredential, account.id)
        assert row is not None and row.confirmed_at is None and secret not in row.secret_encrypted


async def test_sign_in_takes_a_code_once_enrolled_and_a_code_works_only_once(
    client: httpx.AsyncClient,
) -> None:
    enrolled = await enrol(client, await sign_up(client))
    challenge = await challenge_of(client, enrolled.account)
    now_code = code(enrolled.secret)
    signed_in = await client.post("/api/auth/login/totp",
                                  json={"challenge": challenge, "code": now_code})
    assert signed_in.status_code == 200, signed_in.text
    assert "tq_session" in signed_in.cookies
    me = await client.get("/api/me", headers={
        "Authorization": f"Bearer {signed_in.json()['token']}"})
    assert me.json()["id"] == enrolled.account.id
    client.cookies.clear()
    # Replay: the same code with a new challenge (the password again) is refused.
    replayed = await client.post("/api/auth/login/totp", json={
        "challenge": await challenge_of(client, enrolled.account), "code": now_code})
    assert replayed.status_code == 401 and "already used" in replayed.json()["detail"]
    # So is an older code of the window (its step is before the last accepted one).
    older = await client.post("/api/auth/login/totp", json={
        "challenge": await challenge_of(client, enrolled.account),
        "code": code(enrolled.secret, -1)})
    assert older.status_code == 401 and "token" not in older.json()


async def test_a_challenge_signs_in_once(client: httpx.AsyncClient) -> None:
    enrolled = await enrol(client, await sign_up(client))
    challenge = await challenge_of(client, enrolled.account)
    first = await client.post("/api/auth/login/totp",
                              json={"challenge": challenge, "code": code(enrolled.secret)})
    assert first.status_code == 200
    client.cookies.clear()
    again = await client.post("/api/auth/login/totp",
                              json={"challenge": challenge, "code": code(enrolled.secret, 1)})
    assert again.status_code == 401 and "challenge was already used" in again.json()["detail"]


async def test_recovery_codes_work_once_each(client: httpx.AsyncClient) -> None:
    enrolled = await enrol(client, await sign_up(client))
    assert len(enrolled.recovery_codes) == 10
    recovery = enrolled.recovery_codes[3]
    first = await client.post("/api/auth/login/totp", json={
        "challenge": await challenge_of(client, enrolled.account), "code": recovery.upper()})
    assert first.status_code == 200, first.text
    client.cookies.clear()
    second = await client.post("/api/auth/login/totp", json={
        "challenge": await challenge_of(client, enrolled.account), "code": recovery})
    assert second.status_code == 401
    status = await client.get("/api/me/totp", headers=enrolled.account.headers)
    assert status.json()["recovery_codes_left"] == 9


async def test_forged_foreign_and_expired_challenges_are_refused(
    client: httpx.AsyncClient, app: object, monkeypatch: pytest.MonkeyPatch,
) -> None:
    enrolled = await enrol(client, await sign_up(client))
    settings = app_services(app).settings  # type: ignore[arg-type]
    challenge = await challenge_of(client, enrolled.account)
    # Tampered: another account's id under the same signature.
    fields, _, rest = challenge.partition("~")
    tampered = f"{int(fields) + 1}~{rest}"
    forged = SignedFields("not-our-secret-key-at-all-0123456789", CHALLENGE_SALT, 2)
    for bad in (tampered, forged.sign(enrolled.account.id, "nonce"), "nonsense"):
        refused = await client.post("/api/auth/login/totp",
                                    json={"challenge": bad, "code": code(enrolled.secret)})
        assert refused.status_code == 401, refused.text
    # A token signed long ago (itsdangerous stamps with time.time()).
    signed_at = time.time() - settings.totp_challenge_ttl_s - 5
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: signed_at)
    old = SignedFields(settings.secret_key, CHALLENGE_SALT, 2).sign(enrolled.account.id, "n")
    monkeypatch.undo()
    expired = await client.post("/api/auth/login/totp",
                                json={"challenge": old, "code": code(enrolled.secret)})
    assert expired.status_code == 410 and "expired" in expired.json()["detail"]
    # The right code still works afterwards: none of these spent it.
    client.cookies.clear()
    ok = await client.post("/api/auth/login/totp",
                           json={"challenge": challenge, "code": code(enrolled.secret)})
    assert ok.status_code == 200


async def test_wrong_codes_are_limited_per_account(client: httpx.AsyncClient) -> None:
    enrolled = await enrol(client, await sign_up(client))
    challenge = await challenge_of(client, enrolled.account)
    for _ in range(5):  # TICKETQ_TOTP_FAILURES_PER_ACCOUNT
        refused = await client.post("/api/auth/login/totp",
                                    json={"challenge": challenge, "code": wrong(enrolled.secret)})
        assert refused.status_code == 401
    limited = await client.post("/api/auth/login/totp",
                                json={"challenge": challenge, "code": code(enrolled.secret)})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


async def test_turning_2fa_off_takes_a_right_code(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    enrolled = await enrol(client, await sign_up(client))
    headers = enrolled.account.headers
    refused = await client.post("/api/me/totp/disable", headers=headers,
                                json={"code": wrong(enrolled.secret)})
    assert refused.status_code == 422
    assert (await client.get("/api/me/totp", headers=headers)).json()["enabled"] is True
    off = await client.post("/api/me/totp/disable", headers=headers,
                            json={"code": code(enrolled.secret)})
    assert off.status_code == 200 and off.json()["enabled"] is False
    login = await client.post("/api/auth/login", json={
        "email": enrolled.account.email, "password": enrolled.account.password})
    assert "token" in login.json()
    again = await client.post("/api/me/totp/disable", headers=headers, json={"code": "123456"})
    assert again.status_code == 409
    async with sessionmaker() as session:
        actions = list(await session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_user_id == enrolled.account.id)
            .order_by(AuditEntry.id)))
    assert actions == ["account.totp.enable", "account.totp.disable"]


@pytest.mark.parametrize("body", [{"code": "12345"}, {"code": 123456}, {"code": "é" * 6},
                                  {}, {"code": "123456", "extra": 1}])
async def test_bad_bodies_are_4xx(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    account = await sign_up(client)
    await client.post("/api/me/totp", headers=account.headers)
    answer = await client.post("/api/me/totp/confirm", headers=account.headers, json=body)
    assert 400 <= answer.status_code < 500
    assert answer.headers["content-type"].startswith("application/problem+json")
    status = await client.get("/api/me/totp", headers=account.headers)
    assert status.json()["enabled"] is False


async def test_enrolled_accounts_are_listed_nowhere_by_secret(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    enrolled = await enrol(client, await sign_up(client))
    async with sessionmaker() as session:
        stored = await session.scalar(select(TotpCredential.secret_encrypted)
                                      .where(TotpCredential.user_id == enrolled.account.id))
    assert stored is not None and enrolled.secret not in stored

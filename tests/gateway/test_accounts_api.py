"""Sign-up and sign-in through the public API."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from core.models import User
from gateway.context import app_services
from tests.support.api import sign_up, unique_email


async def test_signup_returns_the_account_as_a_fan(client: httpx.AsyncClient) -> None:
    email = unique_email()
    response = await client.post(
        "/api/auth/signup", json={"email": email, "password": "long enough pw", "name": "Fan"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == email and body["role"] == "fan" and isinstance(body["id"], int)
    assert "password" not in response.text


async def test_login_gives_a_token_and_a_session_cookie_that_both_work(
    client: httpx.AsyncClient,
) -> None:
    account = await sign_up(client)
    login = await client.post(
        "/api/auth/login", json={"email": account.email.upper(), "password": account.password}
    )
    assert login.status_code == 200
    assert "tq_session" in login.cookies
    by_cookie = await client.get("/api/me")
    assert by_cookie.status_code == 200 and by_cookie.json()["id"] == account.id
    client.cookies.clear()
    by_token = await client.get("/api/me", headers=account.headers)
    assert by_token.json()["email"] == account.email


async def test_wrong_password_and_unknown_email_get_the_same_401(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    wrong = await client.post(
        "/api/auth/login", json={"email": account.email, "password": "not the password"}
    )
    unknown = await client.post(
        "/api/auth/login", json={"email": unique_email(), "password": "whatever it is"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "wrong email or password"
    assert wrong.headers["content-type"].startswith("application/problem+json")


async def test_duplicate_signup_is_a_409_and_keeps_the_first_account(
    client: httpx.AsyncClient, sessionmaker
) -> None:
    account = await sign_up(client)
    again = await client.post(
        "/api/auth/signup",
        json={"email": account.email, "password": "another password", "name": "Other"},
    )
    assert again.status_code == 409
    async with sessionmaker() as session:
        count = await session.scalar(select(func.count()).where(User.email == account.email))
    assert count == 1


async def test_passwords_are_stored_with_scrypt_not_in_clear(
    client: httpx.AsyncClient, sessionmaker
) -> None:
    account = await sign_up(client)
    async with sessionmaker() as session:
        user = await session.get(User, account.id)
    assert user is not None
    assert user.password_hash.startswith("scrypt$") and account.password not in user.password_hash


def _token_signed_long_ago(settings, user_id: int) -> str:
    import time

    from itsdangerous import TimestampSigner

    from accounts.tokens import API_TOKEN_SALT

    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - settings.token_ttl_seconds - 60

    return LongAgo(settings.secret_key, salt=API_TOKEN_SALT).sign(str(user_id)).decode()


async def test_forged_expired_and_cross_kind_credentials_are_refused(
    client: httpx.AsyncClient, app
) -> None:
    from accounts.tokens import SESSION_SALT, TokenSigner

    account = await sign_up(client)
    forged = account.token[:-2] + ("AA" if not account.token.endswith("AA") else "BB")
    assert (
        await client.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    ).status_code == 401
    other_secret = TokenSigner("some-other-secret", 3600).issue(account.id)
    assert (
        await client.get("/api/me", headers={"Authorization": f"Bearer {other_secret}"})
    ).status_code == 401
    expired = _token_signed_long_ago(app_services(app).settings, account.id)
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    # A session cookie value is not accepted as a bearer token.
    cookie_value = TokenSigner(app_services(app).settings.secret_key, 3600).issue(
        account.id, kind=SESSION_SALT
    )
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {cookie_value}"})
    assert response.status_code == 401
    assert (await client.get("/api/me", headers={"Authorization": "Basic abc"})).status_code == 401
    assert (await client.get("/api/me")).status_code == 401

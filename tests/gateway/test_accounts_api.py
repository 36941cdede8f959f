"""Sign-up and sign-in through the public API."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from core.models import User
from gateway.context import app_services
from tests.support.api import sign_up, unique_email


async def test_signup_answers_202_and_the_account_is_a_fan(client: httpx.AsyncClient) -> None:
    email = unique_email()
    response = await client.post(
        "/api/auth/signup", json={"email": email, "password": "long enough pw", "name": "Fan"}
    )
    assert response.status_code == 202
    body = response.json()
    assert body["email"] == email and body["role"] == "fan" and "id" not in body
    assert "password" not in response.text
    login = await client.post(
        "/api/auth/login", json={"email": email, "password": "long enough pw"}
    )
    assert login.json()["user"]["role"] == "fan"


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


async def test_signup_answers_a_known_email_exactly_like_a_new_one_and_changes_nothing(
    client: httpx.AsyncClient, sessionmaker
) -> None:
    account = await sign_up(client)
    async with sessionmaker() as session:
        before = await session.scalar(select(User).where(User.email == account.email))
    again = await client.post(
        "/api/auth/signup",
        json={"email": account.email, "password": "another password", "name": "Fan"},
    )
    fresh_email = unique_email()
    fresh = await client.post(
        "/api/auth/signup",
        json={"email": fresh_email, "password": "another password", "name": "Fan"},
    )
    assert again.status_code == fresh.status_code == 202
    assert {**again.json(), "email": "?"} == {**fresh.json(), "email": "?"}
    assert again.headers.keys() == fresh.headers.keys()
    async with sessionmaker() as session:
        count = await session.scalar(select(func.count()).where(User.email == account.email))
        after = await session.scalar(select(User).where(User.email == account.email))
    assert count == 1 and before is not None and after is not None
    assert (after.id, after.name, after.password_hash) == (before.id, before.name,
                                                          before.password_hash)
    old = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert old.status_code == 200


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

    return LongAgo(settings.secret_key, salt=API_TOKEN_SALT).sign(f"{user_id}~1").decode()


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


# --- Sign-out revokes (security finding 9) -------------------------------------------


async def _sign_in(client: httpx.AsyncClient, account) -> tuple[dict[str, str], str]:
    """A fresh session: its bearer headers and its cookie value."""
    login = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert login.status_code == 200, login.text
    cookie = login.cookies["tq_session"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {login.json()['token']}"}, cookie


async def _status(client: httpx.AsyncClient, *, headers=None, cookie=None) -> int:
    client.cookies.clear()
    if cookie:
        client.cookies.set("tq_session", cookie)
    response = await client.get("/api/me", headers=headers)
    client.cookies.clear()
    return response.status_code


async def _hot_path_status(client: httpx.AsyncClient, headers) -> int:
    """A route behind require_user_id (no database read): 404 for a live credential."""
    import uuid

    return (await client.delete(f"/api/holds/{uuid.uuid4()}", headers=headers)).status_code


async def test_sign_out_revokes_that_token_or_cookie_and_no_other(client) -> None:
    account = await sign_up(client)
    first, first_cookie = await _sign_in(client, account)
    second, second_cookie = await _sign_in(client, account)
    assert (await client.post("/api/auth/logout", headers=first)).status_code == 200
    refused = await client.get("/api/me", headers=first)
    assert refused.status_code == 401 and "signed out" in refused.json()["detail"]
    assert await _hot_path_status(client, first) == 401
    assert await _status(client, cookie=first_cookie) == 401  # the same sign-in's cookie
    assert await _status(client, headers=second) == 200
    assert await _hot_path_status(client, second) == 404
    assert await _status(client, cookie=second_cookie) == 200
    client.cookies.set("tq_session", second_cookie)
    token = "t" * 43  # as our pages do: the tq_csrf cookie echoed in a header (gateway/csrf.py)
    client.cookies.set("tq_csrf", token)
    signed_out = await client.post("/api/auth/logout", headers={
        "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": token})
    assert signed_out.status_code == 200 and "tq_session" not in signed_out.cookies
    assert await _status(client, cookie=second_cookie) == 401
    assert await _status(client, headers=second) == 401  # one sign-in: token and cookie


async def test_logout_all_revokes_every_token_and_cookie_of_the_account(client) -> None:
    account, other = await sign_up(client), await sign_up(client)
    sessions = [await _sign_in(client, account) for _ in range(3)]
    others_headers, _ = await _sign_in(client, other)
    headers, _ = sessions[0]
    assert (await client.post("/api/auth/logout-all", headers=headers)).status_code == 200
    for bearer, cookie in sessions:
        assert await _status(client, headers=bearer) == 401
        assert await _status(client, cookie=cookie) == 401
        assert await _hot_path_status(client, bearer) == 401
    assert await _status(client, headers=account.headers) == 401  # the sign-up's own
    assert await _status(client, headers=others_headers) == 200
    fresh, _ = await _sign_in(client, account)  # signing in again still works
    assert await _status(client, headers=fresh) == 200


async def test_a_password_change_signs_out_every_other_session(client) -> None:
    account = await sign_up(client)
    current, current_cookie = await _sign_in(client, account)
    elsewhere, elsewhere_cookie = await _sign_in(client, account)
    wrong = await client.post("/api/auth/password", headers=current,
                              json={"current_password": "not it", "new_password": "a new one!"})
    assert wrong.status_code == 403
    assert await _status(client, headers=elsewhere) == 200  # a refused change revokes nothing
    changed = await client.post(
        "/api/auth/password", headers=current,
        json={"current_password": account.password, "new_password": "a brand new password"},
    )
    assert changed.status_code == 200, changed.text
    assert await _status(client, headers=current) == 200
    assert await _status(client, cookie=current_cookie) == 200
    assert await _status(client, headers=elsewhere) == 401
    assert await _status(client, cookie=elsewhere_cookie) == 401
    old = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert old.status_code == 401
    new = await client.post(
        "/api/auth/login", json={"email": account.email, "password": "a brand new password"}
    )
    assert new.status_code == 200
    # Signing out everywhere afterwards also ends the session that was kept.
    assert (await client.post("/api/auth/logout-all", headers=current)).status_code == 200
    assert await _status(client, headers=current) == 401


async def test_my_sessions_lists_them_and_one_can_be_ended(client) -> None:
    account = await sign_up(client)
    current, _ = await _sign_in(client, account)
    other, _ = await _sign_in(client, account)
    listed = await client.get("/api/me/sessions", headers=current)
    assert listed.status_code == 200
    rows = listed.json()["sessions"]
    assert sum(row["current"] for row in rows) == 1 and len(rows) == 3  # sign_up signed in too
    other_id = next(row["id"] for row in rows if not row["current"]
                    and row["id"] != rows[-1]["id"])
    ended = await client.delete(f"/api/me/sessions/{other_id}", headers=current)
    assert ended.status_code == 200
    assert await _status(client, headers=other) == 401
    assert await _status(client, headers=current) == 200
    stranger = await sign_up(client)
    foreign = await client.delete(f"/api/me/sessions/{rows[-1]['id']}", headers=stranger.headers)
    assert foreign.status_code == 404
    assert (await client.delete(f"/api/me/sessions/{other_id}", headers=current)).status_code == 404


# --- No account enumeration (security finding 16) ------------------------------------


async def test_adding_staff_answers_known_and_unknown_emails_alike(client, sessionmaker) -> None:
    from core.models import VenueStaff
    from tests.support.api import create_drop_setup, invitation_link

    setup = await create_drop_setup(client)
    colleague = await sign_up(client, "colleague")
    path = f"/api/venues/{setup.venue_id}/staff"
    known = await client.post(path, headers=setup.admin.headers,
                              json={"email": colleague.email, "role": "scanner"})
    unknown = await client.post(path, headers=setup.admin.headers,
                                json={"email": unique_email("nobody"), "role": "scanner"})
    assert known.status_code == unknown.status_code == 202
    assert {**known.json(), "email": "?"} == {**unknown.json(), "email": "?"}
    # Both became an emailed invitation; nobody is staff until they accept.
    async with sessionmaker() as session:
        staff = await session.get(VenueStaff, (setup.venue_id, colleague.id))
    assert staff is None
    for email in (colleague.email, unknown.json()["email"]):
        await invitation_link(sessionmaker, email)


# --- No secrets in logs (security finding 8) -----------------------------------------


async def test_a_failed_insert_carries_neither_the_email_nor_the_hash(
    client, sessionmaker, caplog
) -> None:
    import logging

    import pytest
    from sqlalchemy.exc import IntegrityError

    account = await sign_up(client)
    secret_hash = "scrypt$16384$8$1$c2FsdHNhbHQ=$bm90LWEtcmVhbC1oYXNoLWJ1dC1zZWNyZXQ="
    caplog.set_level(logging.DEBUG)
    with pytest.raises(IntegrityError) as caught:
        async with sessionmaker() as session:
            session.add(User(email=account.email, name="Dup", password_hash=secret_hash,
                             role="fan"))
            await session.commit()
    # What the gateway's unhandled-error handler would write (gateway/errors.py).
    logging.getLogger("ticketq.gateway").error("unhandled error", exc_info=caught.value)
    # Postgres's own DETAIL names the duplicate key (the email) in the error itself, which
    # is why sign-up no longer lets a duplicate raise one (ON CONFLICT DO NOTHING).
    assert secret_hash not in caplog.text + str(caught.value)
    assert "uq_users_email" in str(caught.value)  # the error still says what went wrong
    caplog.clear()
    again = await client.post("/api/auth/signup", json={
        "email": account.email, "password": "another password", "name": "Dup"})
    assert again.status_code == 202
    assert account.email not in caplog.text and "scrypt$" not in caplog.text

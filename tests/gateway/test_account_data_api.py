"""The account's own data against the real stack: the export holds what we keep (and no
payment secrets), deleting needs the password and a handover, and removes the personal
fields while the account row (and so the ledger pointing at it) stays."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import AuditEntry, User, VenueStaff
from core.models.accounts import SignInSession
from mail.models import OutboxMessage
from tests.support.api import Account, add_staff, create_drop_setup, sign_up


async def _user(maker: async_sessionmaker[AsyncSession], user_id: int) -> User:
    async with maker() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user


async def _delete(client: httpx.AsyncClient, account: Account, **body: object
                  ) -> httpx.Response:
    return await client.request("DELETE", "/api/me", headers=account.headers,
                                json={"password": account.password, **body})


async def test_the_export_holds_the_account_its_sessions_and_mail_and_no_secrets(
        client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    await client.post("/api/auth/password-reset", json={"email": account.email})
    exported = await client.get("/api/me/export", headers=account.headers)
    assert exported.status_code == 200, exported.text
    assert "attachment" in exported.headers["content-disposition"]
    data = exported.json()
    assert data["account"]["email"] == account.email and data["account"]["name"] == "Fan"
    assert data["account"]["email_verified_at"] is None
    assert [s["revoked_at"] for s in data["sessions"]] == [None]
    assert sorted(m["kind"] for m in data["emails"]) == ["password_reset", "verify_email"]
    assert data["orders"] == data["tickets"] == data["payments"] == []
    text = json.dumps(data)
    assert "password_hash" not in text and "scrypt$" not in text and "token=" not in text
    assert (await client.get("/api/me/export")).status_code == 401


async def test_a_wrong_password_or_a_bad_body_deletes_nothing(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account = await sign_up(client)
    wrong = await client.request("DELETE", "/api/me", headers=account.headers,
                                 json={"password": "not the password"})
    assert wrong.status_code == 403 and "unchanged" in wrong.json()["detail"]
    for body in ({}, {"password": account.password, "future_tickets": "burn"},
                 {"password": account.password, "extra": 1}):
        bad = await client.request("DELETE", "/api/me", headers=account.headers, json=body)
        assert bad.status_code == 422, (body, bad.text)
    assert (await _user(sessionmaker, account.id)).email == account.email
    assert (await client.get("/api/me", headers=account.headers)).status_code == 200


async def test_deleting_removes_the_personal_fields_and_every_session(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    account = await sign_up(client)
    deleted = await _delete(client, account)
    assert deleted.status_code == 202, deleted.text
    assert deleted.json() == {"deleted": True, "refunded_orders": [], "kept_orders": []}
    user = await _user(sessionmaker, account.id)
    assert user.email.endswith("@deleted.invalid") and account.email not in user.email
    assert user.name == "" and user.email_verified_at is None
    assert not user.password_hash.startswith("scrypt$")
    async with sessionmaker() as session:
        agents = set(await session.scalars(select(SignInSession.user_agent).where(
            SignInSession.user_id == account.id)))
        revoked = await session.scalar(select(func.count()).select_from(SignInSession).where(
            SignInSession.user_id == account.id, SignInSession.revoked_at.is_(None)))
        mail_left = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.to_address == account.email))
        audit = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "account.delete", AuditEntry.subject_id == str(account.id)))
    assert agents == {""} and revoked == 0 and mail_left == 0
    assert audit is not None and audit.details["future_tickets"] == "refund"
    assert (await client.get("/api/me", headers=account.headers)).status_code == 401
    login = await client.post("/api/auth/login", json={"email": account.email,
                                                       "password": account.password})
    assert login.status_code == 401
    # The address is free again: a new sign-up with it is a new, separate account.
    again = await client.post("/api/auth/signup", json={
        "email": account.email, "password": "a fresh password", "name": "New"})
    assert again.status_code == 202
    fresh = await client.post("/api/auth/login", json={"email": account.email,
                                                       "password": "a fresh password"})
    assert fresh.status_code == 200 and fresh.json()["user"]["id"] != account.id


async def test_a_platform_admin_and_a_venues_last_admin_must_hand_over_first(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    admin = await sign_up(client, "operator")
    async with sessionmaker() as session:
        await session.execute(update(User).where(User.id == admin.id).values(role="admin"))
        await session.commit()
    refused = await _delete(client, admin)
    assert refused.status_code == 409 and "platform admin" in refused.json()["detail"]

    setup = await create_drop_setup(client)
    last = await _delete(client, setup.admin)
    assert last.status_code == 409 and "last admin of Hall" in last.json()["detail"]
    assert (await _user(sessionmaker, setup.admin.id)).email == setup.admin.email
    successor = await sign_up(client, "successor")
    await add_staff(client, sessionmaker, admin=setup.admin, venue_id=setup.venue_id,
                    person=successor)
    handed_over = await _delete(client, setup.admin)
    assert handed_over.status_code == 202, handed_over.text
    async with sessionmaker() as session:
        staff = set(await session.scalars(select(VenueStaff.user_id).where(
            VenueStaff.venue_id == setup.venue_id)))
    assert staff == {successor.id}


async def test_me_password_changes_it_and_keeps_only_this_session(
        client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    other = await client.post("/api/auth/login", json={"email": account.email,
                                                       "password": account.password})
    client.cookies.clear()
    other_headers = {"Authorization": f"Bearer {other.json()['token']}"}
    wrong = await client.post("/api/me/password", headers=account.headers, json={
        "current_password": "wrong", "new_password": "never applied"})
    assert wrong.status_code == 403
    changed = await client.post("/api/me/password", headers=account.headers, json={
        "current_password": account.password, "new_password": "the new password"})
    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/me", headers=account.headers)).status_code == 200
    assert (await client.get("/api/me", headers=other_headers)).status_code == 401


async def test_the_account_page_needs_a_session(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    anonymous = await client.get("/account")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/account"
    await client.post("/api/auth/login", json={"email": account.email,
                                               "password": account.password})
    page = await client.get("/account")
    client.cookies.clear()
    assert page.status_code == 200 and account.email in page.text
    assert "account.js" in page.text and 'id="account-link"' in page.text

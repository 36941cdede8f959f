"""A venue that requires 2FA of its staff, and sensitive actions that want a fresh second
factor, through the public API on the real stack (codes from pyotp)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Role, VenueStaff
from core.models.accounts import SignInSession
from tests.gateway.test_totp_api import challenge_of, enrol, wrong
from tests.support.api import Account, create_drop_setup, sign_up
from tests.support.totp_codes import code


async def _staff(sessionmaker: async_sessionmaker[AsyncSession], venue_id: int,
                 account: Account, role: str) -> None:
    # As an accepted invitation leaves it (tests/catalog/test_invitations.py covers those).
    async with sessionmaker() as session:
        session.add(VenueStaff(venue_id=venue_id, user_id=account.id, role=role))
        await session.commit()


async def test_a_venue_requiring_2fa_blocks_staff_without_it(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    setup = await create_drop_setup(client)
    admin = setup.admin
    security = f"/api/venues/{setup.venue_id}/security"
    # Its admin cannot turn it on without 2FA of their own (it would lock them out).
    refused = await client.put(security, headers=admin.headers, json={"require_totp": True})
    assert refused.status_code == 409 and "your own account first" in refused.json()["detail"]
    await enrol(client, admin)
    on = await client.put(security, headers=admin.headers, json={"require_totp": True})
    assert on.status_code == 200 and on.json() == {"venue_id": setup.venue_id,
                                                   "require_totp": True}
    scanner, co_admin = await sign_up(client, "scanner"), await sign_up(client, "coadmin")
    await _staff(sessionmaker, setup.venue_id, scanner, Role.SCANNER)
    await _staff(sessionmaker, setup.venue_id, co_admin, Role.VENUE_ADMIN)
    bundle = f"/api/events/{setup.event_id}/scanner-bundle"
    blocked = await client.get(bundle, headers=scanner.headers)
    assert blocked.status_code == 403
    assert "set up two-factor authentication to manage this venue" in blocked.json()["detail"]
    # A venue admin without 2FA can neither act nor switch the rule off.
    off = await client.put(security, headers=co_admin.headers, json={"require_totp": False})
    assert off.status_code == 403 and "two-factor" in off.json()["detail"]
    tier = await client.post(f"/api/events/{setup.event_id}/tiers", headers=co_admin.headers,
                             json={"name": "Late", "price_cents": 100, "currency": "EUR",
                                   "capacity": 1, "per_fan_limit": 1})
    assert tier.status_code == 403
    # Nothing changed: the rule stands, and the enrolled admin still works.
    assert (await client.get(bundle, headers=admin.headers)).status_code == 200
    # Once the scanner enrols, the door is theirs again.
    await enrol(client, scanner)
    assert (await client.get(bundle, headers=scanner.headers)).status_code == 200


async def test_rotating_keys_wants_a_fresh_second_factor(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    setup = await create_drop_setup(client)
    admin = setup.admin
    # A second session from before 2FA was on: it never proved a code.
    login = await client.post("/api/auth/login",
                              json={"email": admin.email, "password": admin.password})
    older = {"Authorization": f"Bearer {login.json()['token']}"}
    enrolled = await enrol(client, admin)  # the enrolling session has just proved one
    client.cookies.clear()
    rotate = f"/api/events/{setup.event_id}/scanner-keys/rotate"
    stale = await client.post(rotate, headers=older, json={})
    assert stale.status_code == 403 and "X-TOTP-Code" in stale.json()["detail"]
    bad = await client.post(rotate, headers={**older, "X-TOTP-Code": wrong(enrolled.secret)},
                            json={})
    assert bad.status_code == 422
    fresh = await client.post(rotate, headers={**older, "X-TOTP-Code": code(enrolled.secret)},
                              json={})
    assert fresh.status_code == 200, fresh.text
    # The proof lasts TICKETQ_TOTP_FRESH_S on that session, and then runs out.
    assert (await client.post(rotate, headers=older, json={})).status_code == 200
    assert (await client.post(rotate, headers=admin.headers, json={})).status_code == 200
    async with sessionmaker() as session:
        await session.execute(update(SignInSession)
                              .where(SignInSession.user_id == admin.id)
                              .values(second_factor_at=func.now() - timedelta(minutes=16)))
        await session.commit()
    aged = await client.post(rotate, headers=admin.headers, json={})
    assert aged.status_code == 403


async def test_refunds_want_a_fresh_second_factor_too(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    login = await client.post("/api/auth/login", json={
        "email": setup.admin.email, "password": setup.admin.password})
    older = {"Authorization": f"Bearer {login.json()['token']}"}
    await enrol(client, setup.admin)
    client.cookies.clear()
    # Checked before the order is even looked up: no order id leaks past it either.
    refund = await client.post("/api/orders/00000000-0000-4000-8000-000000000000/refund",
                               headers=older, json={"reason": "asked"})
    assert refund.status_code == 403 and "X-TOTP-Code" in refund.json()["detail"]
    cancel = await client.post(f"/api/events/{setup.event_id}/cancel", headers=older,
                               json={"reason": "the band split up"})
    assert cancel.status_code == 403
    event = await client.get(f"/api/events/{setup.event_id}")
    assert event.json()["status"] != "cancelled"


async def test_a_session_signed_in_with_a_code_is_fresh(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    enrolled = await enrol(client, setup.admin)
    challenge = await challenge_of(client, setup.admin)
    login = await client.post("/api/auth/login/totp",
                              json={"challenge": challenge, "code": code(enrolled.secret)})
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    cancel = await client.post(f"/api/events/{setup.event_id}/cancel", headers=headers,
                               json={"reason": "the band split up"})
    assert cancel.status_code == 202, cancel.text

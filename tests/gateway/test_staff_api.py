"""Issue 11, finding 12, reproduced against a live gateway (uvicorn, real Redis, Postgres):
self-service venues selling without review, and staff made without consent.

The gateway runs with TICKETQ_VENUE_APPROVAL=required, as production does by default.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.models import VenueInvitation
from core.models import AuditEntry, Role, User, VenueStaff
from tests.support import services as test_services
from tests.support.api import (
    Account,
    DropSetup,
    create_drop_setup,
    invitation_link,
    iso,
    sign_up,
    unique_email,
)
from tests.support.processes import RunningProcess, gateway_process, service_env

Maker = async_sessionmaker[AsyncSession]
TIER = {"name": "Balcony", "price_cents": 2500, "currency": "EUR", "capacity": 40,
        "per_fan_limit": 2}


@pytest.fixture(scope="module")
def approving_gateway(services: test_services.TestServices) -> Iterator[RunningProcess]:
    env = service_env(services.redis_url, services.database_url,
                      TICKETQ_VENUE_APPROVAL="required")
    with gateway_process(env, services.folder / "logs") as proc:
        yield proc


@pytest.fixture
async def live(approving_gateway: RunningProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=approving_gateway.url, timeout=10) as http:
        yield http


async def platform_admin(live: httpx.AsyncClient, sessionmaker: Maker) -> Account:
    account = await sign_up(live, "operator")
    async with sessionmaker() as session:
        await session.execute(update(User).where(User.id == account.id).values(role=Role.ADMIN))
        await session.commit()
    return account


async def role_of(sessionmaker: Maker, user_id: int) -> str | None:
    async with sessionmaker() as session:
        role: str | None = await session.scalar(select(User.role).where(User.id == user_id))
    return role


async def staff_count(sessionmaker: Maker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(VenueStaff)) or 0)


async def verify_address(sessionmaker: Maker, account: Account) -> None:
    """What following the verification link does (tests/gateway/test_verify_email_api.py)."""
    async with sessionmaker() as session:
        await session.execute(update(User).where(User.id == account.id)
                              .values(email_verified_at=datetime.now(UTC)))
        await session.commit()


async def draft_venue(live: httpx.AsyncClient) -> DropSetup:
    # A pending venue may set up drafts, tiers and drops (it just cannot publish).
    return await create_drop_setup(live, published=False)


async def invite(live: httpx.AsyncClient, setup: DropSetup, email: str,
                 role: str = "venue_admin") -> httpx.Response:
    return await live.post(f"/api/venues/{setup.venue_id}/staff", headers=setup.admin.headers,
                           json={"email": email, "role": role})


async def test_inviting_changes_no_account_and_grants_nothing_until_accepted(
    live: httpx.AsyncClient, sessionmaker: Maker
) -> None:
    setup = await draft_venue(live)
    victim = await sign_up(live, "victim")
    assert (await invite(live, setup, victim.email)).status_code == 202
    # The attack was: a venue admin silently made anyone venue_admin (globally). Now
    # the account is untouched and has no right at the venue, not even sight of drafts.
    assert (await live.get("/api/me", headers=victim.headers)).json()["role"] == "fan"
    assert await role_of(sessionmaker, victim.id) == "fan"
    early = await live.post(f"/api/events/{setup.event_id}/tiers", headers=victim.headers,
                            json=TIER)
    assert early.status_code == 404, early.text
    assert (await live.get("/api/me/venues", headers=victim.headers)).json() == {"venues": []}
    # An unverified address sees no offer (anyone could have signed up with it).
    assert (await live.get("/api/me/invitations", headers=victim.headers)).json() == {
        "invitations": []}
    await verify_address(sessionmaker, victim)
    mine = (await live.get("/api/me/invitations", headers=victim.headers)).json()
    [offer] = mine["invitations"]
    assert (offer["venue"]["id"], offer["role"]) == (setup.venue_id, "venue_admin")

    invitation_id, token = await invitation_link(sessionmaker, victim.email)
    assert invitation_id == offer["id"]
    accepted = await live.post(f"/api/invitations/{invitation_id}/accept",
                               headers=victim.headers, json={"token": token})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"venue_id": setup.venue_id, "user_id": victim.id,
                               "role": "venue_admin"}
    later = await live.post(f"/api/events/{setup.event_id}/tiers", headers=victim.headers,
                            json=TIER)
    assert later.status_code == 201, later.text
    # Rights at this venue only; the account's own role never changed.
    assert await role_of(sessionmaker, victim.id) == "fan"
    assert (await live.get("/api/me/invitations", headers=victim.headers)).json() == {
        "invitations": []}
    async with sessionmaker() as session:
        actions = set(await session.execute(
            select(AuditEntry.actor_user_id, AuditEntry.action)
            .where(AuditEntry.subject_id == str(setup.venue_id),
                   AuditEntry.action.like("venue.staff.%"))))
    assert actions == {(setup.admin.id, "venue.staff.invite"),
                       (victim.id, "venue.staff.accept")}


async def test_another_account_cannot_accept_even_with_the_link(
    live: httpx.AsyncClient, sessionmaker: Maker
) -> None:
    setup = await draft_venue(live)
    invitee, thief = await sign_up(live, "invitee"), await sign_up(live, "thief")
    await invite(live, setup, invitee.email)
    invitation_id, token = await invitation_link(sessionmaker, invitee.email)
    before = await staff_count(sessionmaker)
    stolen = await live.post(f"/api/invitations/{invitation_id}/accept",
                             headers=thief.headers, json={"token": token})
    assert stolen.status_code == 404, stolen.text
    assert stolen.headers["content-type"].startswith("application/problem+json")
    declined = await live.post(f"/api/invitations/{invitation_id}/decline",
                               headers=thief.headers)
    assert declined.status_code == 404
    # The right account without the emailed token (it never read the email) is refused.
    guessed = await live.post(f"/api/invitations/{invitation_id}/accept",
                              headers=invitee.headers, json={"token": "guess"})
    assert guessed.status_code == 403, guessed.text
    assert await staff_count(sessionmaker) == before
    unauthenticated = await live.post(f"/api/invitations/{invitation_id}/accept",
                                      json={"token": token})
    assert unauthenticated.status_code == 401


@pytest.mark.parametrize(("ending", "status"), [("declined", 409), ("revoked", 410),
                                                 ("expired", 410), ("accepted", 409)])
async def test_an_ended_invitation_cannot_be_accepted(
    live: httpx.AsyncClient, sessionmaker: Maker, ending: str, status: int
) -> None:
    setup = await draft_venue(live)
    invitee = await sign_up(live, "invitee")
    await invite(live, setup, invitee.email, role="scanner")
    invitation_id, token = await invitation_link(sessionmaker, invitee.email)
    accept = f"/api/invitations/{invitation_id}/accept"
    if ending == "declined":
        unverified = await live.post(f"/api/invitations/{invitation_id}/decline",
                                     headers=invitee.headers)
        assert unverified.status_code == 403, unverified.text
        assert "confirm your email" in unverified.json()["detail"]
        answer = await live.post(f"/api/invitations/{invitation_id}/decline",
                                 headers=invitee.headers, json={"token": token})
        assert answer.status_code == 200 and answer.json()["state"] == "declined"
    elif ending == "revoked":
        answer = await live.delete(f"/api/venues/{setup.venue_id}/invitations/{invitation_id}",
                                   headers=setup.admin.headers)
        assert answer.status_code == 200 and answer.json()["state"] == "revoked"
        listed = await live.get(f"/api/venues/{setup.venue_id}/invitations",
                                headers=setup.admin.headers)
        assert listed.json() == {"invitations": []}
    elif ending == "expired":
        async with sessionmaker() as session:
            await session.execute(update(VenueInvitation).where(
                VenueInvitation.id == invitation_id).values(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            await session.commit()
    else:
        answer = await live.post(accept, headers=invitee.headers, json={"token": token})
        assert answer.status_code == 200
    before = await staff_count(sessionmaker)
    refused = await live.post(accept, headers=invitee.headers, json={"token": token})
    assert refused.status_code == status, refused.text
    assert refused.json()["detail"]
    assert await staff_count(sessionmaker) == before


async def test_known_and_unknown_emails_get_the_same_202_and_the_same_work(
    live: httpx.AsyncClient, sessionmaker: Maker
) -> None:
    setup = await draft_venue(live)
    known = await sign_up(live, "known")
    stranger = unique_email("nobody")
    answers = [await invite(live, setup, email, role="scanner")
               for email in (known.email, stranger)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() | {"email": "?"} == answers[1].json() | {"email": "?"}
    listed = await live.get(f"/api/venues/{setup.venue_id}/invitations",
                            headers=setup.admin.headers)
    assert sorted(row["email"] for row in listed.json()["invitations"]) == sorted(
        [known.email, stranger])
    # Another venue's admin cannot read or revoke them.
    other = await draft_venue(live)
    peek = await live.get(f"/api/venues/{setup.venue_id}/invitations",
                          headers=other.admin.headers)
    assert peek.status_code == 403


async def test_a_pending_venue_cannot_publish_until_a_platform_admin_approves(
    live: httpx.AsyncClient, sessionmaker: Maker
) -> None:
    setup = await draft_venue(live)
    venues = (await live.get("/api/me/venues", headers=setup.admin.headers)).json()["venues"]
    assert [v["approval"] for v in venues] == ["pending"]
    publish = f"/api/events/{setup.event_id}/publish"
    refused = await live.post(publish, headers=setup.admin.headers)
    assert refused.status_code == 409, refused.text
    assert "approval" in refused.json()["detail"]
    now = datetime.now(UTC)
    published_at_once = await live.post("/api/events", headers=setup.admin.headers, json={
        "venue_id": setup.venue_id, "title": "Sneaky", "published": True,
        "starts_at": iso(now + timedelta(days=1)), "ends_at": iso(now + timedelta(days=2))})
    assert published_at_once.status_code == 409
    # Not visible, so no fan can queue for or pay for its drop.
    assert (await live.get(f"/api/drops/{setup.drop_id}")).status_code == 404
    # Neither the venue's own admin nor a fan can approve it.
    fan = await sign_up(live)
    for who in (setup.admin, fan):
        denied = await live.post(f"/api/venues/{setup.venue_id}/approve", headers=who.headers)
        assert denied.status_code == 403, denied.text
    operator = await platform_admin(live, sessionmaker)
    approved = await live.post(f"/api/venues/{setup.venue_id}/approve",
                               headers=operator.headers)
    assert approved.status_code == 200 and approved.json()["approval"] == "approved"
    assert (await live.post(publish, headers=setup.admin.headers)).status_code == 200
    assert (await live.get(f"/api/drops/{setup.drop_id}")).status_code == 200
    async with sessionmaker() as session:
        audit = await session.scalar(select(AuditEntry.actor_user_id).where(
            AuditEntry.action == "venue.approve",
            AuditEntry.subject_id == str(setup.venue_id)))
    assert audit == operator.id


async def test_a_rejected_venue_cannot_publish(live: httpx.AsyncClient, sessionmaker: Maker
                                               ) -> None:
    setup = await draft_venue(live)
    operator = await platform_admin(live, sessionmaker)
    rejected = await live.post(f"/api/venues/{setup.venue_id}/reject", headers=operator.headers)
    assert rejected.status_code == 200 and rejected.json()["approval"] == "rejected"
    refused = await live.post(f"/api/events/{setup.event_id}/publish",
                              headers=setup.admin.headers)
    assert refused.status_code == 409


async def test_removing_staff_ends_their_rights_but_never_the_last_admin(
    live: httpx.AsyncClient, sessionmaker: Maker
) -> None:
    setup = await draft_venue(live)
    colleague = await sign_up(live, "colleague")
    await invite(live, setup, colleague.email)
    invitation_id, token = await invitation_link(sessionmaker, colleague.email)
    await live.post(f"/api/invitations/{invitation_id}/accept", headers=colleague.headers,
                    json={"token": token})
    removed = await live.delete(f"/api/venues/{setup.venue_id}/staff/{colleague.id}",
                                headers=setup.admin.headers)
    assert removed.status_code == 200 and removed.json()["role"] == "venue_admin"
    tier = await live.post(f"/api/events/{setup.event_id}/tiers", headers=colleague.headers,
                           json=TIER)
    assert tier.status_code == 404
    last = await live.delete(f"/api/venues/{setup.venue_id}/staff/{setup.admin.id}",
                             headers=setup.admin.headers)
    assert last.status_code == 409, last.text


async def test_the_staff_list_names_the_venues_people_for_its_admins_only(
    live: httpx.AsyncClient, sessionmaker: Maker
) -> None:
    setup = await draft_venue(live)
    colleague = await sign_up(live, "colleague")
    path = f"/api/venues/{setup.venue_id}/staff"
    [alone] = (await live.get(path, headers=setup.admin.headers)).json()["staff"]
    assert (alone["user_id"], alone["role"]) == (setup.admin.id, "venue_admin")
    await invite(live, setup, colleague.email, role="scanner")
    invitation_id, token = await invitation_link(sessionmaker, colleague.email)
    await live.post(f"/api/invitations/{invitation_id}/accept", headers=colleague.headers,
                    json={"token": token})
    listed = (await live.get(path, headers=setup.admin.headers)).json()["staff"]
    assert [(row["user_id"], row["email"], row["role"]) for row in listed] == [
        (setup.admin.id, setup.admin.email, "venue_admin"),
        (colleague.id, colleague.email, "scanner")]
    # A scanner, an outsider and nobody signed in do not see the list.
    assert (await live.get(path, headers=colleague.headers)).status_code in {403, 404}
    outsider = await sign_up(live, "outsider")
    assert (await live.get(path, headers=outsider.headers)).status_code in {403, 404}
    assert (await live.get(path)).status_code == 401


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("POST", "/api/invitations/999999999/accept", {"token": "x"}, 404),
    ("POST", "/api/invitations/0/accept", {"token": "x"}, 404),
    ("POST", "/api/invitations/abc/decline", None, 404),
    ("POST", "/api/invitations/1/decline", {"token": 5}, 422),
    ("POST", "/api/invitations/1/decline", {"token": ""}, 422),
    ("POST", "/api/invitations/1/decline", {"token": "x", "extra": 1}, 422),
    ("POST", "/api/invitations/1/accept", {}, 422),
    ("POST", "/api/invitations/1/accept", {"token": "x", "extra": 1}, 422),
    ("DELETE", "/api/venues/{venue}/staff/999999999", None, 404),
    ("DELETE", "/api/venues/{venue}/invitations/999999999", None, 404),
    ("DELETE", "/api/venues/{venue}/staff/-1", None, 404),
    ("POST", "/api/venues/999999999/approve", None, 404),
    ("GET", "/api/venues/999999999/invitations", None, 404),
    ("GET", "/api/venues/999999999/staff", None, 404),
])
async def test_bad_ids_and_bodies_are_4xx_and_change_nothing(
    live: httpx.AsyncClient, sessionmaker: Maker, method: str, path: str,
    body: dict[str, object] | None, status: int
) -> None:
    setup = await draft_venue(live)
    operator = await platform_admin(live, sessionmaker)
    who = operator if "approve" in path else setup.admin
    before = await staff_count(sessionmaker)
    answer = await live.request(method, path.format(venue=setup.venue_id), headers=who.headers,
                                json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert await staff_count(sessionmaker) == before

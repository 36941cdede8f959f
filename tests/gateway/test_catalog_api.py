"""The authorisation matrix: venue admins manage only their own venues' events and drops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from core.models import AuditEntry, Drop, Event, TicketTier
from tests.support.api import add_staff, create_drop_setup, iso, sign_up, unique_title


async def _draft_setup(client: httpx.AsyncClient, title: str = "Show"):
    return await create_drop_setup(client, published=False, title=title)


async def test_creator_of_a_venue_becomes_its_venue_admin(client: httpx.AsyncClient) -> None:
    account = await sign_up(client, "owner")
    venue = await client.post(
        "/api/venues",
        headers=account.headers,
        json={"name": "Club", "city": "Oslo", "timezone": "Europe/Oslo"},
    )
    assert venue.status_code == 201
    # Admin of this venue only (a venue_staff row); the account itself stays a fan.
    me = await client.get("/api/me", headers=account.headers)
    assert me.json()["role"] == "fan"
    mine = (await client.get("/api/me/venues", headers=account.headers)).json()["venues"]
    assert [(v["id"], v["role"]) for v in mine] == [(venue.json()["id"], "venue_admin")]


async def test_other_venue_admin_cannot_see_drafts_or_drops(client: httpx.AsyncClient) -> None:
    venue_a = await _draft_setup(client)
    admin_b = (await create_drop_setup(client)).admin
    event = await client.get(f"/api/events/{venue_a.event_id}", headers=admin_b.headers)
    drop = await client.get(f"/api/drops/{venue_a.drop_id}", headers=admin_b.headers)
    assert event.status_code == 404 and drop.status_code == 404
    anonymous = await client.get(f"/api/drops/{venue_a.drop_id}")
    assert anonymous.status_code == 404
    own = await client.get(f"/api/drops/{venue_a.drop_id}", headers=venue_a.admin.headers)
    assert own.status_code == 200 and own.json()["event"]["status"] == "draft"


async def test_other_venue_admin_cannot_change_anything(
    client: httpx.AsyncClient, sessionmaker
) -> None:
    venue_a = await create_drop_setup(client)
    admin_b = (await create_drop_setup(client)).admin
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        before = (
            await session.scalar(select(func.count()).select_from(Drop)),
            await session.scalar(select(func.count()).select_from(TicketTier)),
            await session.scalar(select(func.count()).select_from(Event)),
        )
    attempts = [
        client.post(
            f"/api/events/{venue_a.event_id}/tiers",
            headers=admin_b.headers,
            json={
                "name": "Sneaky",
                "price_cents": 1,
                "currency": "EUR",
                "capacity": 5,
                "per_fan_limit": 1,
            },
        ),
        client.post(
            "/api/drops",
            headers=admin_b.headers,
            json={
                "event_id": venue_a.event_id,
                "mode": "direct",
                "prequeue_opens_at": iso(now),
                "opens_at": iso(now + timedelta(minutes=1)),
                "closes_at": iso(now + timedelta(hours=1)),
                "admit_per_minute": 10,
                "max_active": 10,
                "session_seconds": 300,
            },
        ),
        client.post(
            "/api/events",
            headers=admin_b.headers,
            json={
                "venue_id": venue_a.venue_id,
                "title": "Not mine",
                "starts_at": iso(now + timedelta(days=1)),
                "ends_at": iso(now + timedelta(days=2)),
            },
        ),
        client.post(
            f"/api/venues/{venue_a.venue_id}/staff",
            headers=admin_b.headers,
            json={"email": admin_b.email, "role": "venue_admin"},
        ),
        client.post(f"/api/events/{venue_a.event_id}/publish", headers=admin_b.headers),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 403, response.text
    async with sessionmaker() as session:
        after = (
            await session.scalar(select(func.count()).select_from(Drop)),
            await session.scalar(select(func.count()).select_from(TicketTier)),
            await session.scalar(select(func.count()).select_from(Event)),
        )
    assert before == after


async def test_fans_cannot_create_events_for_a_venue(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    now = datetime.now(UTC)
    response = await client.post(
        "/api/events",
        headers=fan.headers,
        json={
            "venue_id": setup.venue_id,
            "title": "x",
            "starts_at": iso(now + timedelta(days=1)),
            "ends_at": iso(now + timedelta(days=2)),
        },
    )
    assert response.status_code == 403


async def test_staff_added_by_the_venue_admin_can_manage_and_is_audited(
    client: httpx.AsyncClient, sessionmaker
) -> None:
    setup = await create_drop_setup(client)
    colleague = await sign_up(client, "colleague")
    await add_staff(client, sessionmaker, admin=setup.admin, venue_id=setup.venue_id,
                    person=colleague)
    tier = await client.post(
        f"/api/events/{setup.event_id}/tiers",
        headers=colleague.headers,
        json={
            "name": "Balcony",
            "price_cents": 2500,
            "currency": "eur",
            "capacity": 40,
            "per_fan_limit": 2,
        },
    )
    assert tier.status_code == 201 and tier.json()["currency"] == "EUR"
    async with sessionmaker() as session:
        actions = set(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor_user_id == colleague.id)
            )
        )
    assert "tier.create" in actions


async def test_public_listing_shows_published_events_only(client: httpx.AsyncClient) -> None:
    title = unique_title()
    published = await create_drop_setup(client, title=title)
    draft = await _draft_setup(client, title=title)
    listing = {"q": title}
    ids = {e["id"] for e in (await client.get("/api/events", params=listing)).json()["events"]}
    assert published.event_id in ids and draft.event_id not in ids
    publish = await client.post(
        f"/api/events/{draft.event_id}/publish", headers=draft.admin.headers
    )
    assert publish.status_code == 200
    ids = {e["id"] for e in (await client.get("/api/events", params=listing)).json()["events"]}
    assert draft.event_id in ids


async def test_public_drop_view_has_event_tiers_and_state(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client, opens_in=timedelta(minutes=5))
    body = (await client.get(f"/api/drops/{setup.drop_id}")).json()
    assert body["state"] == "prequeue"
    assert {tier["name"] for tier in body["tiers"]} == {"GA", "VIP"}
    assert body["event"]["id"] == setup.event_id and body["venue"]["id"] == setup.venue_id


async def test_my_venues_lists_only_the_callers_venues(client: httpx.AsyncClient) -> None:
    mine = await create_drop_setup(client)
    theirs = await create_drop_setup(client)
    listing = await client.get("/api/me/venues", headers=mine.admin.headers)
    assert listing.status_code == 200
    venues = listing.json()["venues"]
    assert [venue["id"] for venue in venues] == [mine.venue_id]
    event = venues[0]["events"][0]
    assert event["id"] == mine.event_id and event["drops"][0]["id"] == mine.drop_id
    assert {tier["name"] for tier in event["tiers"]} == {"GA", "VIP"}
    assert theirs.venue_id not in {venue["id"] for venue in venues}
    fan = await sign_up(client)
    assert (await client.get("/api/me/venues", headers=fan.headers)).json() == {"venues": []}

"""Helpers that drive the public API the way a venue or fan would."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import altcha
import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.context import app_services
from mail.models import OutboxMessage


@dataclass
class Account:
    id: int
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(prefix: str = "fan") -> str:
    return f"{prefix}-{secrets.token_hex(6)}@example.test"


async def sign_up(client: httpx.AsyncClient, prefix: str = "fan") -> Account:
    email, password = unique_email(prefix), "correct horse battery"
    created = await client.post(
        "/api/auth/signup", json={"email": email, "password": password, "name": prefix.title()}
    )
    # Sign-up answers alike for new and known emails (no id): the id comes with sign-in.
    assert created.status_code == 202, created.text
    login = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    client.cookies.clear()
    return Account(
        id=login.json()["user"]["id"], email=email, password=password, token=login.json()["token"]
    )


async def solved_challenge(client: httpx.AsyncClient, drop_id: int, fan: Account) -> str:
    """The altcha payload of this fan's challenge for a drop, solved with altcha's solver."""
    issued = await client.get(f"/api/drops/{drop_id}/challenge", headers=fan.headers)
    assert issued.status_code == 200, issued.text
    challenge = altcha.Challenge.from_dict(issued.json())
    solution = altcha.solve_challenge(challenge)
    assert solution is not None
    return altcha.Payload(challenge, solution).to_base64()


def iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass
class DropSetup:
    admin: Account
    venue_id: int
    event_id: int
    tier_ids: dict[str, int]
    drop_id: int


async def create_drop_setup(
    client: httpx.AsyncClient,
    *,
    admin: Account | None = None,
    tiers: dict[str, dict[str, Any]] | None = None,
    published: bool = True,
    mode: str = "direct",
    opens_in: timedelta = timedelta(seconds=-1),
    prequeue_for: timedelta = timedelta(minutes=10),
    open_for: timedelta = timedelta(hours=2),
    admit_per_minute: int = 600,
    max_active: int = 100,
    session_seconds: int = 600,
    starts_in: timedelta = timedelta(days=30),
    requires_verified_email: bool = False,
    challenge_difficulty: int = 0,
    join_limits: dict[str, int | None] | None = None,
    title: str = "Show",
) -> DropSetup:
    """A venue, a published event with GA and VIP tiers, and an open drop.

    Without the proof-of-work at join unless asked (`challenge_difficulty`), unlike a drop
    made with the API's defaults: tests of the line join many fans in a few lines each."""
    admin = admin or await sign_up(client, "venue")
    venue = await client.post(
        "/api/venues",
        headers=admin.headers,
        json={"name": "Hall", "city": "Lyon", "timezone": "Europe/Paris"},
    )
    assert venue.status_code == 201, venue.text
    now = datetime.now(UTC)
    event = await client.post(
        "/api/events",
        headers=admin.headers,
        json={
            "venue_id": venue.json()["id"],
            "title": title,
            "description": "A show",
            "starts_at": iso(now + starts_in),
            "ends_at": iso(now + starts_in + timedelta(hours=3)),
            "published": published,
        },
    )
    assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    tier_specs = tiers or {
        "GA": {"price_cents": 5000, "currency": "EUR", "capacity": 100, "per_fan_limit": 4},
        "VIP": {"price_cents": 15000, "currency": "EUR", "capacity": 10, "per_fan_limit": 2},
    }
    tier_ids = {}
    for name, spec in tier_specs.items():
        tier = await client.post(
            f"/api/events/{event_id}/tiers", headers=admin.headers, json={"name": name, **spec}
        )
        assert tier.status_code == 201, tier.text
        tier_ids[name] = tier.json()["id"]
    opens_at = now + opens_in
    drop = await client.post(
        "/api/drops",
        headers=admin.headers,
        json={
            "event_id": event_id,
            "mode": mode,
            "prequeue_opens_at": iso(opens_at - prequeue_for),
            "opens_at": iso(opens_at),
            "closes_at": iso(opens_at + open_for),
            "admit_per_minute": admit_per_minute,
            "max_active": max_active,
            "session_seconds": session_seconds,
            "requires_verified_email": requires_verified_email,
            "challenge_difficulty": challenge_difficulty,
            **(join_limits or {}),
        },
    )
    assert drop.status_code == 201, drop.text
    return DropSetup(
        admin=admin,
        venue_id=venue.json()["id"],
        event_id=event_id,
        tier_ids=tier_ids,
        drop_id=drop.json()["id"],
    )


def app_sessionmaker(client: httpx.AsyncClient) -> async_sessionmaker[AsyncSession]:
    """The database of the in-process app behind `client` (tests/support/apps.py)."""
    transport = client._transport  # httpx keeps it private; tests may look
    if not isinstance(transport, httpx.ASGITransport):
        raise TypeError("a live-server client: pass the sessionmaker fixture")
    maker: async_sessionmaker[AsyncSession] = app_services(transport.app).sessionmaker  # type: ignore[arg-type]
    return maker


INVITATION_LINK = re.compile(r"#invitation=(\d+)&token=([A-Za-z0-9_-]+)")


async def invitation_link(
    sessionmaker: async_sessionmaker[AsyncSession], email: str
) -> tuple[int, str]:
    """The (invitation id, token) of the newest invitation emailed to `email`, read from
    the real mail outbox the way its owner would read it from their inbox."""
    async with sessionmaker() as session:
        body = await session.scalar(
            select(OutboxMessage.text_body)
            .where(OutboxMessage.kind == "staff_invitation",
                   OutboxMessage.to_address == email.lower())
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(1))
    assert body is not None, f"no invitation was emailed to {email}"
    found = INVITATION_LINK.search(body)
    assert found is not None, body
    return int(found.group(1)), found.group(2)


async def add_staff(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], *,
    admin: Account, venue_id: int, person: Account, role: str = "venue_admin",
) -> None:
    """Invite `person` and have them accept from their email: the only way to add staff."""
    invited = await client.post(f"/api/venues/{venue_id}/staff", headers=admin.headers,
                                json={"email": person.email, "role": role})
    assert invited.status_code == 202, invited.text
    invitation_id, token = await invitation_link(sessionmaker, person.email)
    accepted = await client.post(f"/api/invitations/{invitation_id}/accept",
                                 headers=person.headers, json={"token": token})
    assert accepted.status_code == 200, accepted.text


def unique_title(prefix: str = "Show") -> str:
    """A title no other test's event has: GET /api/events lists at most 100 events and the
    suite's shared database holds many more, so a test finds its own with `?q=`."""
    return f"{prefix} {secrets.token_hex(4)}"

"""Venue approval in the services: who may decide, and what a pending venue may not do."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import catalog
from core.errors import Conflict, Forbidden
from core.models import Approval, Event, Role, User

STARTS = datetime(2030, 5, 1, 20, tzinfo=UTC)


async def person(session: AsyncSession, role: str = Role.FAN) -> User:
    user = User(email=f"{role}-{secrets.token_hex(6)}@example.test", name=role,
                password_hash="unusable", role=role)
    session.add(user)
    await session.commit()
    return user


async def new_venue(session: AsyncSession, owner: User, *, approval_required: bool = True):
    return await catalog.create_venue(session, owner, name="Club", city="Lyon",
                                      timezone="Europe/Paris",
                                      approval_required=approval_required)


async def test_who_creates_the_venue_decides_whether_it_waits(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        fan, admin = await person(session), await person(session, Role.ADMIN)
        assert (await new_venue(session, fan)).approval == Approval.PENDING
        assert (await new_venue(session, admin)).approval == Approval.APPROVED
        unreviewed = await new_venue(session, fan, approval_required=False)
        assert unreviewed.approval == Approval.APPROVED
        await session.refresh(fan)
        assert fan.role == Role.FAN  # creating a venue changes no account


async def test_a_pending_venue_keeps_drafts_and_publishes_once_approved(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        owner, admin = await person(session), await person(session, Role.ADMIN)
        venue = await new_venue(session, owner)
        draft = await catalog.create_event(session, owner, venue_id=venue.id, title="Show",
                                           starts_at=STARTS, ends_at=STARTS + timedelta(hours=2))
        with pytest.raises(Conflict, match="approval"):
            await catalog.publish_event(session, owner, draft.id)
        with pytest.raises(Conflict):
            await catalog.create_event(session, owner, venue_id=venue.id, title="Now",
                                       starts_at=STARTS, ends_at=STARTS + timedelta(hours=2),
                                       published=True)
        with pytest.raises(Forbidden):
            await catalog.decide_venue(session, owner, venue.id, approve=True)
        await catalog.decide_venue(session, admin, venue.id, approve=True)
        published = await catalog.publish_event(session, owner, draft.id)
        assert published.status == "published"
        with pytest.raises(Conflict):  # stopping a venue that may be selling is not this
            await catalog.decide_venue(session, admin, venue.id, approve=False)
        assert await session.get(Event, draft.id) is not None

"""Sessions whose credentials have all expired leave Postgres (accounts/session_pruning.py)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import sessions
from accounts.session_pruning import prune_expired_sessions
from core.models import User
from core.models.accounts import SignInSession

TTL_S = 3600


async def _sessions_opened_at(sessionmaker: async_sessionmaker[AsyncSession],
                              moments: list[datetime]) -> tuple[int, list[int]]:
    async with sessionmaker() as db:
        user = User(email=f"sp-{secrets.token_hex(6)}@example.test", name="P",
                    password_hash="unusable")
        db.add(user)
        await db.commit()
        opened = [await sessions.open_session(db, user_id=user.id, user_agent="t", now=moment)
                  for moment in moments]
        return user.id, [row.id for row in opened]


async def _session_ids(sessionmaker: async_sessionmaker[AsyncSession], user_id: int) -> set[int]:
    async with sessionmaker() as db:
        return set(await db.scalars(select(SignInSession.id)
                                    .where(SignInSession.user_id == user_id)))


async def test_only_sessions_older_than_one_token_lifetime_are_deleted(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    user_id, [_, _, live] = await _sessions_opened_at(
        sessionmaker, [now - timedelta(seconds=TTL_S + 60), now - timedelta(seconds=TTL_S + 1),
                       now - timedelta(seconds=TTL_S - 60)])

    pruned = await prune_expired_sessions(sessionmaker, now=now, ttl_s=TTL_S)

    assert pruned >= 2
    assert await _session_ids(sessionmaker, user_id) == {live}


async def test_pruning_works_through_batches_and_again_finds_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(days=2)
    user_id, _ = await _sessions_opened_at(
        sessionmaker, [old + timedelta(milliseconds=index) for index in range(7)])

    assert await prune_expired_sessions(sessionmaker, now=now, ttl_s=TTL_S, batch=3) >= 7
    assert await _session_ids(sessionmaker, user_id) == set()
    assert await prune_expired_sessions(sessionmaker, now=now, ttl_s=TTL_S) == 0

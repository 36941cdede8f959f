"""Sign-outs written back from Postgres after Redis lost them (single Redis and Cluster)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import sessions
from accounts.revocation_restore import restore_if_lost, restore_revocations
from core.models import User
from core.redis_client import RedisClient
from core.redis_keys import account_revocations, revocations_restored_marker
from core.script_batching import ScriptBatcher
from core.scripts import ScriptRegistry

TTL_S = 3600


async def _user_with_sessions(db: AsyncSession, now: datetime, count: int) -> tuple[int, list[int]]:
    user = User(email=f"rr-{secrets.token_hex(6)}@example.test", name="R",
                password_hash="unusable")
    db.add(user)
    await db.commit()
    opened = [await sessions.open_session(db, user_id=user.id, user_agent="t",
                                          now=now + timedelta(milliseconds=index))
              for index in range(count)]
    return user.id, [row.id for row in opened]


async def _lose_redis_data(redis: RedisClient, user_id: int) -> None:
    await redis.delete(account_revocations(user_id))
    await redis.delete(revocations_restored_marker())


async def test_a_signed_out_session_stays_out_after_redis_loses_it(
    sessionmaker: async_sessionmaker[AsyncSession], any_redis: RedisClient,
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker() as db:
        user_id, [signed_out, still_in] = await _user_with_sessions(db, now, 2)
        await sessions.revoke(db, any_redis, user_id=user_id, session_id=signed_out,
                              now=now, ttl_s=TTL_S)
    await _lose_redis_data(any_redis, user_id)
    assert await sessions.is_live(any_redis, user_id, signed_out)  # the gap being closed

    restored = await restore_if_lost(sessionmaker, any_redis, now=now, ttl_s=TTL_S)

    assert restored is not None and restored >= 1
    assert not await sessions.is_live(any_redis, user_id, signed_out)
    assert await sessions.is_live(any_redis, user_id, still_in)
    assert 0 < await any_redis.ttl(account_revocations(user_id)) <= TTL_S


async def test_sign_out_everywhere_is_restored_but_the_kept_session_stays_in(
    sessionmaker: async_sessionmaker[AsyncSession], any_redis: RedisClient,
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker() as db:
        user_id, [first, second, kept] = await _user_with_sessions(db, now, 3)
        await sessions.revoke_all(db, any_redis, user_id=user_id, now=now + timedelta(seconds=1),
                                  ttl_s=TTL_S, keep=kept)
        await _lose_redis_data(any_redis, user_id)
        await restore_revocations(db, any_redis, now=now, ttl_s=TTL_S)

    assert not await sessions.is_live(any_redis, user_id, first)
    assert not await sessions.is_live(any_redis, user_id, second)
    assert await sessions.is_live(any_redis, user_id, kept)


async def test_nothing_is_restored_while_the_marker_says_redis_kept_its_data(
    sessionmaker: async_sessionmaker[AsyncSession], any_redis: RedisClient,
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker() as db:
        user_id, [signed_out] = await _user_with_sessions(db, now, 1)
        await sessions.revoke(db, any_redis, user_id=user_id, session_id=signed_out,
                              now=now, ttl_s=TTL_S)
    await any_redis.set(revocations_restored_marker(), "0")
    await any_redis.delete(account_revocations(user_id))

    assert await restore_if_lost(sessionmaker, any_redis, now=now, ttl_s=TTL_S) is None
    assert await sessions.is_live(any_redis, user_id, signed_out)


async def test_sign_outs_older_than_a_token_lifetime_are_not_written_back(
    sessionmaker: async_sessionmaker[AsyncSession], any_redis: RedisClient,
) -> None:
    long_ago = datetime.now(UTC) - timedelta(seconds=2 * TTL_S)
    async with sessionmaker() as db:
        user_id, [old] = await _user_with_sessions(db, long_ago, 1)
        await sessions.revoke(db, any_redis, user_id=user_id, session_id=old,
                              now=long_ago, ttl_s=TTL_S)
        await _lose_redis_data(any_redis, user_id)
        await restore_revocations(db, any_redis, now=datetime.now(UTC), ttl_s=TTL_S)

    # Its credentials expired with the lifetime; no key is recreated for it.
    assert not await any_redis.exists(account_revocations(user_id))


async def test_the_batched_session_read_decides_as_the_direct_one(
    sessionmaker: async_sessionmaker[AsyncSession], any_redis: RedisClient,
) -> None:
    """The queue join reads sessions through the herd's pipelines (gateway/auth.py)."""
    now = datetime.now(UTC)
    async with sessionmaker() as db:
        user_id, [signed_out, kept, other] = await _user_with_sessions(db, now, 3)
        await sessions.revoke(db, any_redis, user_id=user_id, session_id=signed_out,
                              now=now, ttl_s=TTL_S)
    batcher = ScriptBatcher(ScriptRegistry(any_redis))
    for session_id in (signed_out, kept, other):
        direct = await sessions.is_live(any_redis, user_id, session_id)
        assert await sessions.is_live(any_redis, user_id, session_id, batcher=batcher) == direct
    async with sessionmaker() as db:
        await sessions.revoke_all(db, any_redis, user_id=user_id, now=now + timedelta(seconds=1),
                                  ttl_s=TTL_S, keep=kept)
    answers = await asyncio.gather(*(sessions.is_live(any_redis, user_id, session_id,
                                                      batcher=batcher)
                                     for session_id in (signed_out, kept, other)))
    assert answers == [False, True, False]

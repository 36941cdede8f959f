"""Sign-outs survive a Redis that lost its data: revocations rebuilt from Postgres.

accounts.sessions checks a credential with one Redis read and keeps only revocations in
Redis; Postgres (`sessions.revoked_at`) is the record. A Redis restarted without its AOF,
or failed over to an empty replica, would forget every sign-out of the last token lifetime
and let those credentials back in. This module writes them back: every session revoked
within one token lifetime gets its per-session "revoked" mark again. That is complete on
its own: sign-out-everywhere and a password change stamp `revoked_at` on every session they
cover, so no `before` mark is needed, and a session kept despite one was never revoked.

A marker key says the revocations are in place. The worker checks it every minute and
restores when it is gone, since its absence means this Redis lost what it held.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.sessions import REVOKED
from core.models.accounts import SignInSession
from core.redis_client import RedisClient
from core.redis_keys import account_revocations, revocations_restored_marker

# Sessions written back per pipeline: bounded memory for a long list of sign-outs.
BATCH = 500


async def restore_revocations(db: AsyncSession, redis: RedisClient, *, now: datetime,
                              ttl_s: int) -> int:
    """Re-mark every session revoked within `ttl_s` as revoked; returns how many."""
    since = now - timedelta(seconds=ttl_s)
    rows = await db.stream(select(SignInSession.user_id, SignInSession.id)
                           .where(SignInSession.revoked_at.is_not(None),
                                  SignInSession.revoked_at > since)
                           .order_by(SignInSession.user_id)
                           .execution_options(yield_per=BATCH))
    restored = 0
    async for batch in rows.partitions(BATCH):
        # Not a transaction: keys of different accounts live in different cluster slots.
        async with redis.pipeline(transaction=False) as pipe:
            for user_id, session_id in batch:
                key = account_revocations(user_id)
                pipe.hset(key, str(session_id), REVOKED)
                pipe.expire(key, ttl_s)
            await pipe.execute()
        restored += len(batch)
    await redis.set(revocations_restored_marker(), str(restored))
    return restored


async def restore_if_lost(sessionmaker: async_sessionmaker[AsyncSession], redis: RedisClient,
                          *, now: datetime, ttl_s: int) -> int | None:
    """Restore when the marker is missing (a new or emptied Redis); None when it is there."""
    if await redis.exists(revocations_restored_marker()):
        return None
    async with sessionmaker() as db:
        return await restore_revocations(db, redis, now=now, ttl_s=ttl_s)


async def revocation_restorer(sessionmaker: async_sessionmaker[AsyncSession],
                              redis: RedisClient, clock: Callable[[], datetime], *,
                              ttl_s: int, every_s: float = 60.0) -> None:
    """Worker job: restore at start if needed, then look again every `every_s` seconds."""
    while True:
        await restore_if_lost(sessionmaker, redis, now=clock(), ttl_s=ttl_s)
        await asyncio.sleep(every_s)

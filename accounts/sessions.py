"""Sign-in sessions: what a bearer token or session cookie belongs to, and how it is revoked.

Every sign-in makes a session (a `sessions` row) whose id the token and the cookie carry.
Postgres is the record; the check on every request is one Redis read, never a database
read, because `require_user_id` sits on the queue join's hot path.

Redis keeps revocations, not live sessions: one HASH per account
(core.redis_keys.account_revocations) with
- `before` -> ms: every session started at or before it is revoked (sign out everywhere,
  password change). A session id starts with its start time (`id >> 16` is ms), so no
  list of sessions is needed to revoke them all;
- `<session id>` -> "0": this one is revoked (sign-out); "1": kept despite `before` (the
  session that changed the password).
The hash expires one token lifetime after its last write: by then every credential it
could refuse has expired anyway. A Redis that loses its data forgets revocations, so
production runs it with AOF (ARCHITECTURE.md, "Redis"); docs/security.md says what is left.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import to_ms
from core.errors import NotFound
from core.models.accounts import SignInSession
from core.redis_client import RedisClient
from core.redis_keys import account_revocations
from core.script_batching import ScriptBatcher

BEFORE = "before"
REVOKED, KEPT = "0", "1"


def new_session_id(now: datetime) -> int:
    """Start time in ms, then 16 random bits: ordered by time, unique per user in practice."""
    return (to_ms(now) << 16) | secrets.randbits(16)


def started_ms(session_id: int) -> int:
    return session_id >> 16


async def open_session(db: AsyncSession, *, user_id: int, user_agent: str,
                       now: datetime) -> SignInSession:
    row = SignInSession(user_id=user_id, id=new_session_id(now), created_at=now,
                        user_agent=user_agent[:200])
    db.add(row)
    await db.commit()
    return row


async def is_live(redis: RedisClient, user_id: int, session_id: int, *,
                  batcher: ScriptBatcher | None = None) -> bool:
    """Whether a genuine, unexpired credential's session is still signed in (one read).

    With `batcher` the read shares a pipeline with the herd's other calls (the queue
    join's hot path, where redis-py's own round trip costs more CPU than the join's)."""
    key, fields = account_revocations(user_id), (BEFORE, str(session_id))
    if batcher is None:
        before, state = await redis.hmget(key, fields)
    else:
        before, state = await batcher.command("HMGET", key, *fields)
    if state is not None:
        return bool(state == KEPT.encode())
    return before is None or started_ms(session_id) > int(before)


async def revoke(db: AsyncSession, redis: RedisClient, *, user_id: int, session_id: int,
                 now: datetime, ttl_s: int) -> None:
    """Sign one session out (Postgres first: the record outlives the Redis entry)."""
    await db.execute(update(SignInSession)
                     .where(SignInSession.user_id == user_id, SignInSession.id == session_id,
                            SignInSession.revoked_at.is_(None))
                     .values(revoked_at=now))
    await db.commit()
    key = account_revocations(user_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, str(session_id), REVOKED)
        pipe.expire(key, ttl_s)
        await pipe.execute()


async def revoke_all(db: AsyncSession, redis: RedisClient, *, user_id: int, now: datetime,
                     ttl_s: int, keep: int | None = None) -> None:
    """Sign every session of the account out, except `keep` (the caller's own, if given)."""
    statement = update(SignInSession).where(SignInSession.user_id == user_id,
                                            SignInSession.revoked_at.is_(None))
    if keep is not None:
        statement = statement.where(SignInSession.id != keep)
    await db.execute(statement.values(revoked_at=now))
    await db.commit()
    key = account_revocations(user_id)
    async with redis.pipeline(transaction=True) as pipe:
        # Earlier per-session entries are all covered by the new `before` (or are "kept"
        # marks that must not outlive it).
        pipe.delete(key)
        pipe.hset(key, BEFORE, str(to_ms(now)))
        if keep is not None:
            pipe.hset(key, str(keep), KEPT)
        pipe.expire(key, ttl_s)
        await pipe.execute()


async def live_sessions(db: AsyncSession, *, user_id: int) -> list[SignInSession]:
    rows = await db.scalars(select(SignInSession)
                            .where(SignInSession.user_id == user_id,
                                   SignInSession.revoked_at.is_(None))
                            .order_by(SignInSession.id.desc()))
    return list(rows)


async def revoke_own(db: AsyncSession, redis: RedisClient, *, user_id: int, session_id: int,
                     now: datetime, ttl_s: int) -> None:
    """DELETE /api/me/sessions/{id}: someone else's or an unknown id is the same 404."""
    row = await db.get(SignInSession, (user_id, session_id))
    if row is None or row.revoked_at is not None:
        raise NotFound("no such session")
    await revoke(db, redis, user_id=user_id, session_id=session_id, now=now, ttl_s=ttl_s)

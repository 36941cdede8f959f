"""Expired sign-in sessions leave Postgres: the `sessions` table stays the size of the
signed-in crowd, not of every sign-in ever made.

A session's credentials (token and cookie) are issued when it opens and expire one token
lifetime later (accounts/tokens.py, gateway/accounts_api.py), so a session that opened
longer ago than that can authenticate nobody: its row only grows the table and the
account page's list. The revocation restore (accounts/revocation_restore.py) reads only
sessions revoked within one lifetime, so pruning older ones loses nothing it needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models.accounts import SignInSession

log = logging.getLogger("ticketq.accounts")

# Rows deleted per transaction: short locks even after a year of sign-ins.
BATCH = 5000


async def prune_expired_sessions(sessionmaker: async_sessionmaker[AsyncSession], *,
                                 now: datetime, ttl_s: int, batch: int = BATCH) -> int:
    """Delete sessions opened more than `ttl_s` before `now`; returns how many."""
    cutoff = now - timedelta(seconds=ttl_s)
    pruned = 0
    while True:
        expired = (select(SignInSession.user_id, SignInSession.id)
                   .where(SignInSession.created_at < cutoff).limit(batch))
        async with sessionmaker() as db, db.begin():
            result = await db.execute(
                delete(SignInSession)
                .where(tuple_(SignInSession.user_id, SignInSession.id).in_(expired))
                .execution_options(synchronize_session=False))
        deleted = result.rowcount or 0  # type: ignore[attr-defined]
        pruned += deleted
        if deleted < batch:
            return pruned


async def session_pruner(sessionmaker: async_sessionmaker[AsyncSession],
                         clock: Callable[[], datetime], *, ttl_s: int,
                         every_s: float = 3600.0) -> None:
    """Worker job: prune at start, then every `every_s` seconds."""
    while True:
        if pruned := await prune_expired_sessions(sessionmaker, now=clock(), ttl_s=ttl_s):
            log.info("pruned %d expired sign-in sessions", pruned)
        await asyncio.sleep(every_s)

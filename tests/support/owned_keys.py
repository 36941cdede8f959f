"""Delete only the Redis keys the suite made: the keys of drops it created, never a flush.

In CI's second pass the suite borrows the machine's shared Redis, whose other keys
belong to other programs. Every key of a drop carries the drop's hash tag
(core/redis_keys.py), so "this drop's keys" is one SCAN MATCH `tq:{ev:<id>}:*`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.db import libpq_url
from core.redis_client import RedisClient
from core.redis_keys import PREFIX, DropKeys

BATCH = 500
# Patterns derive from core/redis_keys.py (the one owner of key formats) by building
# the keys of a marker drop id and swapping the id out.
_MARK = 918_273_645
ANY_DROP_PATTERN = DropKeys(_MARK).key("*").replace(str(_MARK), "*")
_DROP_ID_IN_KEY = re.compile(
    re.escape(DropKeys(_MARK).tag).replace(str(_MARK), "([0-9]+)").encode())


def drop_key_pattern(drop_id: int) -> str:
    """SCAN pattern of every key of one drop (`{` and `}` are literal in Redis globs)."""
    return DropKeys(drop_id).key("*")


async def forget_drops(client: RedisClient, drop_ids: Iterable[int]) -> int:
    """Unlink every key of these drops (single Redis or Cluster); return how many."""
    removed = 0
    for drop_id in drop_ids:
        keys = [key async for key in client.scan_iter(match=drop_key_pattern(drop_id),
                                                      count=BATCH)]
        # One hash tag, one slot: a multi-key UNLINK is valid on Cluster too.
        for start in range(0, len(keys), BATCH):
            removed += int(await client.unlink(*keys[start:start + BATCH]))
    return removed


def forget_drops_sync(redis_url: str, drop_ids: Iterable[int]) -> int:
    """`forget_drops` for session set-up and tear-down (outside the event loop), for many
    drops at once: one SCAN over every drop's keys, keeping only these drops' ones."""
    import redis

    wanted = {str(drop_id).encode() for drop_id in drop_ids}
    if not wanted:
        return 0
    client = redis.Redis.from_url(redis_url)
    removed = 0
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=ANY_DROP_PATTERN, count=BATCH):
            found = _DROP_ID_IN_KEY.match(key)
            if found and found.group(1) in wanted:
                batch.append(key)
            if len(batch) >= BATCH:
                removed += int(client.unlink(*batch))  # type: ignore[arg-type]
                batch.clear()
        if batch:
            removed += int(client.unlink(*batch))  # type: ignore[arg-type]
    finally:
        client.close()
    return removed


# Accounts' keys: everything under an account's hash tag (core.redis_keys.account_*),
# and the rate limits whose subject is an account id (core.redis_keys.RateKey).
ACCOUNT_ID_RATE_SCOPES = ("email-change", "verify-resend")
ANY_ACCOUNT_PATTERN = f"{PREFIX}:{{acct:*}}:*"
ANY_RATE_PATTERN = f"{PREFIX}:{{rl:*}}:*"
_ACCOUNT_ID_IN_KEY = re.compile(rb"^" + re.escape(PREFIX.encode()) + rb":\{acct:([0-9]+)\}:")
_RATE_SUBJECT_IN_KEY = re.compile(
    rb"^" + re.escape(PREFIX.encode()) + rb":\{rl:(?:"
    + "|".join(ACCOUNT_ID_RATE_SCOPES).encode() + rb"):([0-9]+)\}:")


def forget_accounts_sync(redis_url: str, user_ids: Iterable[int]) -> int:
    """Unlink the keys of these accounts (revocations, pending email changes, their
    per-account rate counters): ids restart in a fresh database, so an earlier run's
    counters would otherwise limit this run's new accounts."""
    import redis

    wanted = {str(user_id).encode() for user_id in user_ids}
    if not wanted:
        return 0
    client = redis.Redis.from_url(redis_url)
    removed = 0
    try:
        doomed = [key for key in client.scan_iter(match=ANY_ACCOUNT_PATTERN, count=BATCH)
                  if (found := _ACCOUNT_ID_IN_KEY.match(key)) and found.group(1) in wanted]
        doomed += [key for key in client.scan_iter(match=ANY_RATE_PATTERN, count=BATCH)
                   if (found := _RATE_SUBJECT_IN_KEY.match(key)) and found.group(1) in wanted]
        for start in range(0, len(doomed), BATCH):
            removed += int(client.unlink(*doomed[start:start + BATCH]))  # type: ignore[arg-type]
    finally:
        client.close()
    return removed


def account_ids_in(database_url: str) -> list[int]:
    """Ids of every account in a test database; none if it does not exist (yet)."""
    return _ids_in(database_url, "users")


def drop_ids_in(database_url: str) -> list[int]:
    """Ids of every drop in a test database; none if it does not exist (yet)."""
    return _ids_in(database_url, "drops")


def _ids_in(database_url: str, table: str) -> list[int]:
    import psycopg

    try:
        with psycopg.connect(libpq_url(database_url), connect_timeout=10) as conn:
            rows = conn.execute(f"SELECT id FROM {table}").fetchall()  # table: one of two constants
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return []
    return [int(row[0]) for row in rows]

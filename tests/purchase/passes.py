"""Live admission passes for purchase tests.

Until the queue engine admits fans for these tests, this writes exactly what the
contract says the queue's admit script writes: `DropKeys.passes[fan] = pass_id` and
`DropKeys.active[fan] = expiry ms`, and signs the matching pass.
"""

from __future__ import annotations

import secrets
import time

from core.redis_client import RedisClient
from core.redis_keys import DropKeys
from queue_engine.credentials import CredentialSigner


async def grant_pass(redis: RedisClient, secret_key: str, drop_id: int, fan_id: int, *,
                     now_ms: int | None = None, ttl_ms: int = 600_000) -> tuple[str, str]:
    """Returns (signed admission pass, pass id)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    pass_id = secrets.token_hex(8)
    keys = DropKeys(drop_id)
    await redis.hset(keys.passes, str(fan_id), pass_id)
    await redis.zadd(keys.active, {str(fan_id): now + ttl_ms})
    token = CredentialSigner(secret_key).admission_pass(fan_id, drop_id, pass_id, now + ttl_ms)
    return token, pass_id

"""Per-device scan rate limit: a fixed-window counter in Redis (INCR + EXPIRE).

A door device scans a person every second or two; a device sending far more is
broken or scripted. The window is an input (`now`), as everywhere in TicketQ.
"""

from __future__ import annotations

from datetime import datetime

from core.errors import RateLimited
from core.redis_client import RedisClient
from core.redis_keys import scanner_rate_key

WINDOW_S = 60


async def check_scan_rate(redis: RedisClient, device_id: str, *, limit_per_minute: int,
                          now: datetime, cost: int = 1) -> None:
    """Count `cost` scans for the device; raise RateLimited past the limit."""
    seconds = int(now.timestamp())
    window = seconds // WINDOW_S
    key = scanner_rate_key(device_id, window)
    count = int(await redis.incrby(key, cost))
    if count == cost:
        await redis.expire(key, WINDOW_S * 2)
    if count > limit_per_minute:
        retry_after = WINDOW_S - seconds % WINDOW_S
        raise RateLimited(f"this device sent more than {limit_per_minute} scans a minute; "
                          "wait a moment", retry_after_s=retry_after)

"""The per-device counter against real Redis, single node and Cluster."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import RateLimited
from core.redis_client import RedisClient
from scanner.ratelimit import check_scan_rate


async def test_limit_per_device_per_window(any_redis: RedisClient) -> None:
    device = f"dev-{uuid.uuid4().hex[:8]}"
    now = datetime(2026, 12, 1, 20, 0, 10, tzinfo=UTC)
    for _ in range(3):
        await check_scan_rate(any_redis, device, limit_per_minute=3, now=now)
    with pytest.raises(RateLimited) as refused:
        await check_scan_rate(any_redis, device, limit_per_minute=3, now=now)
    assert refused.value.retry_after_s == 50
    await check_scan_rate(any_redis, f"{device}-other", limit_per_minute=3, now=now)
    await check_scan_rate(any_redis, device, limit_per_minute=3, now=now + timedelta(minutes=1))

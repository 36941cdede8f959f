"""The per-device scan limit on the shared primitive, on real Redis: single node and Cluster."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import RateLimited
from core.scripts import ScriptRegistry
from scanner.ratelimit import check_scan_rate


async def test_limit_per_device_per_window(scripts: ScriptRegistry) -> None:
    device = f"dev-{uuid.uuid4().hex[:8]}"
    now = datetime(2026, 12, 1, 20, 0, 10, tzinfo=UTC)
    for _ in range(3):
        await check_scan_rate(scripts, device, limit_per_minute=3, now=now)
    with pytest.raises(RateLimited) as refused:
        await check_scan_rate(scripts, device, limit_per_minute=3, now=now)
    assert refused.value.retry_after_s == 50
    assert "3 scans a minute" in refused.value.detail
    await check_scan_rate(scripts, f"{device}-other", limit_per_minute=3, now=now)
    await check_scan_rate(scripts, device, limit_per_minute=3, now=now + timedelta(minutes=1))


async def test_an_upload_too_big_for_the_rest_of_the_minute_counts_nothing(
        scripts: ScriptRegistry) -> None:
    device = f"dev-{uuid.uuid4().hex[:8]}"
    now = datetime(2026, 12, 1, 20, 0, 59, 500_000, tzinfo=UTC)
    await check_scan_rate(scripts, device, limit_per_minute=3, now=now, cost=2)
    with pytest.raises(RateLimited) as refused:
        await check_scan_rate(scripts, device, limit_per_minute=3, now=now, cost=2)
    assert refused.value.retry_after_s == 1  # half a second left, rounded up
    await check_scan_rate(scripts, device, limit_per_minute=3, now=now)

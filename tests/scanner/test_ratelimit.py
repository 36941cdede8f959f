"""The per-device scan limit on the shared primitive, on real Redis: single node and Cluster."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
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


@pytest.fixture
async def strict_client(settings):
    """The gateway with small scanner limits and a stopped clock (one rate window)."""
    from tests.support.apps import api_client, running_app
    now = datetime.now(UTC)
    tight = settings.replace(scanner_rate_per_account_per_minute=5,
                             scanner_rate_per_event_per_minute=8,
                             scanner_manual_per_account_per_minute=3,
                             scanner_manual_per_event_per_minute=4)
    async with running_app(tight, clock=lambda: now) as app, api_client(app) as http:
        yield http


def _fresh_device() -> str:
    return f"fresh-{uuid.uuid4().hex[:12]}"


async def test_fresh_device_ids_still_hit_the_account_limit(strict_client) -> None:
    from tests.scanner.factory import add_scanner, make_door, scan_body
    door = await make_door(strict_client)
    for _ in range(5):
        response = await strict_client.post("/api/scan", headers=door.scanner.headers,
                                            json=scan_body("x" * 10, device=_fresh_device()))
        assert response.status_code == 200, response.text
    refused = await strict_client.post("/api/scan", headers=door.scanner.headers,
                                       json=scan_body("x" * 10, device=_fresh_device()))
    assert refused.status_code == 429
    assert "account" in refused.json()["detail"] and int(refused.headers["retry-after"]) >= 1
    # Offline uploads count against the same account budget.
    upload = await strict_client.post(
        f"/api/events/{door.event_id}/offline-scans", headers=door.scanner.headers,
        json={"device_id": _fresh_device(), "scans": [
            {"payload": "JUNK", "gate": "East", "nonce": "offline-nonce-9",
             "scanned_at": datetime.now(UTC).isoformat()}]})
    assert upload.status_code == 429
    # Another account of the same venue has its own budget, until the event's is spent.
    other = await add_scanner(strict_client, door.setup, "second")
    answers = [await strict_client.post(
        "/api/scan", headers=other.headers,
        json=scan_body("x" * 10, device=_fresh_device(), event_id=door.event_id))
        for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5


async def test_manual_code_guessing_is_bounded(strict_client) -> None:
    from tests.scanner.factory import add_scanner, make_door, scan_body
    door = await make_door(strict_client)

    async def guess(headers: dict[str, str], number: int) -> httpx.Response:
        return await strict_client.post("/api/scan", headers=headers, json=scan_body(
            f"deadbe{number:02x}-{number:06d}", device=_fresh_device(), event_id=door.event_id))

    statuses = [(await guess(door.scanner.headers, n)).status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]  # 3 manual codes a minute per account
    refused = await guess(door.scanner.headers, 9)
    assert "manual codes" in refused.json()["detail"]
    # A second account gets one more before the event's manual budget (4) is spent.
    other = await add_scanner(strict_client, door.setup, "guesser")
    statuses = [(await guess(other.headers, n)).status_code for n in range(10, 12)]
    assert statuses == [200, 429]
    assert "event" in (await guess(other.headers, 20)).json()["detail"]

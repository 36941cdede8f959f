"""Every class of bad input gets a clear 4xx problem+json, never a 500, and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from core.models import AuditEntry, Drop, Event, TicketTier, User, Venue, VenueStaff
from gateway.context import app_services
from tests.support.api import DropSetup, create_drop_setup, iso

TABLES = (User, Venue, VenueStaff, Event, TicketTier, Drop, AuditEntry)


async def _row_counts(sessionmaker) -> dict[str, int]:
    async with sessionmaker() as session:
        return {
            table.__tablename__: await session.scalar(select(func.count()).select_from(table))
            for table in TABLES
        }


def _valid_bodies(setup: DropSetup) -> dict[str, dict]:
    now = datetime.now(UTC)
    return {
        "/api/auth/signup": {"email": "new@example.test", "password": "long password", "name": "N"},
        "/api/venues": {"name": "V", "city": "C", "timezone": "UTC"},
        f"/api/venues/{setup.venue_id}/staff": {"email": setup.admin.email, "role": "scanner"},
        "/api/events": {
            "venue_id": setup.venue_id,
            "title": "T",
            "starts_at": iso(now + timedelta(days=1)),
            "ends_at": iso(now + timedelta(days=2)),
        },
        f"/api/events/{setup.event_id}/tiers": {
            "name": "Pit",
            "price_cents": 100,
            "currency": "EUR",
            "capacity": 5,
            "per_fan_limit": 1,
        },
        "/api/drops": {
            "event_id": setup.event_id,
            "mode": "direct",
            "prequeue_opens_at": iso(now),
            "opens_at": iso(now + timedelta(minutes=1)),
            "closes_at": iso(now + timedelta(hours=1)),
            "admit_per_minute": 10,
            "max_active": 10,
            "session_seconds": 300,
        },
    }


@pytest.fixture
async def setup(client: httpx.AsyncClient) -> DropSetup:
    return await create_drop_setup(client)


def _first_field(body: dict) -> str:
    return next(key for key, value in body.items() if isinstance(value, (str, int)))


async def _assert_refused(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["detail"]


async def test_malformed_json_is_400(client, setup, sessionmaker) -> None:
    before = await _row_counts(sessionmaker)
    for path in _valid_bodies(setup):
        response = await client.post(
            path,
            headers={**setup.admin.headers, "Content-Type": "application/json"},
            content=b'{"name": "unterminated',
        )
        await _assert_refused(response, 400)
    assert await _row_counts(sessionmaker) == before


async def test_wrong_types_are_422_naming_the_field(client, setup, sessionmaker) -> None:
    before = await _row_counts(sessionmaker)
    for path, body in _valid_bodies(setup).items():
        field = _first_field(body)
        wrong = {**body, field: [1, 2]}
        response = await client.post(path, headers=setup.admin.headers, json=wrong)
        await _assert_refused(response, 422)
        assert field in response.json()["detail"]
    # Numbers as strings are not silently coerced either.
    tier = {**_valid_bodies(setup)[f"/api/events/{setup.event_id}/tiers"], "capacity": "5"}
    response = await client.post(
        f"/api/events/{setup.event_id}/tiers", headers=setup.admin.headers, json=tier
    )
    await _assert_refused(response, 422)
    assert await _row_counts(sessionmaker) == before


async def test_unknown_fields_are_422(client, setup, sessionmaker) -> None:
    before = await _row_counts(sessionmaker)
    for path, body in _valid_bodies(setup).items():
        response = await client.post(
            path, headers=setup.admin.headers, json={**body, "is_admin": True}
        )
        await _assert_refused(response, 422)
        assert "is_admin" in response.json()["detail"]
    assert await _row_counts(sessionmaker) == before


async def test_non_object_and_non_json_bodies(client, setup, sessionmaker) -> None:
    before = await _row_counts(sessionmaker)
    response = await client.post("/api/venues", headers=setup.admin.headers, json=[1, 2, 3])
    await _assert_refused(response, 422)
    response = await client.post(
        "/api/venues",
        headers=setup.admin.headers,
        content=b"name=x",
    )
    await _assert_refused(response, 415)
    assert await _row_counts(sessionmaker) == before


async def test_oversize_bodies_are_413(client, setup, sessionmaker, app) -> None:
    before = await _row_counts(sessionmaker)
    limit = app_services(app).settings.max_body_bytes
    huge = {"name": "x" * (limit + 10), "city": "C", "timezone": "UTC"}
    response = await client.post("/api/venues", headers=setup.admin.headers, json=huge)
    await _assert_refused(response, 413)

    async def chunked():  # no Content-Length: the cap must hold while streaming too
        for _ in range(limit // 1000 + 5):
            yield b" " * 1000

    response = await client.post(
        "/api/venues",
        content=chunked(),
        headers={**setup.admin.headers, "Content-Type": "application/json"},
    )
    await _assert_refused(response, 413)
    assert await _row_counts(sessionmaker) == before


@pytest.mark.parametrize(
    "path",
    ["/api/drops/999999999", "/api/events/999999999", "/api/drops/not-a-number", "/api/events/1e9"],
)
async def test_unknown_ids_are_404(client, path) -> None:
    await _assert_refused(await client.get(path), 404)


async def test_unknown_ids_in_bodies_and_paths_for_writes(client, setup, sessionmaker) -> None:
    before = await _row_counts(sessionmaker)
    bodies = _valid_bodies(setup)
    response = await client.post(
        "/api/events/999999999/tiers",
        headers=setup.admin.headers,
        json=bodies[f"/api/events/{setup.event_id}/tiers"],
    )
    await _assert_refused(response, 404)
    response = await client.post(
        "/api/drops",
        headers=setup.admin.headers,
        json={**bodies["/api/drops"], "event_id": 999999999},
    )
    await _assert_refused(response, 404)
    response = await client.post(
        "/api/venues/999999999/staff",
        headers=setup.admin.headers,
        json={"email": setup.admin.email, "role": "scanner"},
    )
    await _assert_refused(response, 404)
    assert await _row_counts(sessionmaker) == before
    # An unknown email is answered like a known one (no account enumeration): both are
    # an invitation (and its audit row), and neither makes anyone staff.
    response = await client.post(
        f"/api/venues/{setup.venue_id}/staff",
        headers=setup.admin.headers,
        json={"email": "nobody@example.test", "role": "scanner"},
    )
    assert response.status_code == 202, response.text
    after = await _row_counts(sessionmaker)
    assert {**after, "audit_log": before["audit_log"]} == before


async def test_missing_and_forged_credentials_are_401(client, setup, sessionmaker) -> None:
    before = await _row_counts(sessionmaker)
    for path, body in _valid_bodies(setup).items():
        if path == "/api/auth/signup":
            continue
        await _assert_refused(await client.post(path, json=body), 401)
        forged = {"Authorization": "Bearer eyJ1aWQiOjF9.forged.signature"}
        await _assert_refused(await client.post(path, json=body, headers=forged), 401)
    assert await _row_counts(sessionmaker) == before


async def test_semantic_errors_are_422_with_reasons(client, setup, sessionmaker) -> None:
    before = await _row_counts(sessionmaker)
    bodies = _valid_bodies(setup)
    now = datetime.now(UTC)
    cases = [
        ("/api/venues", {**bodies["/api/venues"], "timezone": "Mars/Olympus"}, "timezone"),
        (
            "/api/drops",
            {**bodies["/api/drops"], "closes_at": iso(now - timedelta(hours=1))},
            "closes_at",
        ),
        ("/api/drops", {**bodies["/api/drops"], "mode": "auction"}, "mode"),
        ("/api/drops", {**bodies["/api/drops"], "opens_at": "2026-12-01T20:00:00"}, "timezone"),
        ("/api/events", {**bodies["/api/events"], "ends_at": iso(now)}, "ends_at"),
        (
            f"/api/events/{setup.event_id}/tiers",
            {**bodies[f"/api/events/{setup.event_id}/tiers"], "price_cents": -5},
            "price_cents",
        ),
        (
            f"/api/events/{setup.event_id}/tiers",
            {**bodies[f"/api/events/{setup.event_id}/tiers"], "currency": "E1"},
            "currency",
        ),
    ]
    for path, body, word in cases:
        response = await client.post(path, headers=setup.admin.headers, json=body)
        await _assert_refused(response, 422)
        assert word in response.json()["detail"], response.json()["detail"]
    assert await _row_counts(sessionmaker) == before


async def test_unknown_route_and_wrong_method_are_problems(client) -> None:
    await _assert_refused(await client.get("/api/nothing-here"), 404)
    await _assert_refused(await client.delete("/api/events"), 405)


async def test_deep_nesting_is_400_without_recursion(client, setup, sessionmaker) -> None:
    before = await _row_counts(sessionmaker)
    for deep in (b"[" * 60_000, b'{"name": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"):
        response = await client.post(
            "/api/venues",
            headers={**setup.admin.headers, "Content-Type": "application/json"},
            content=deep,
        )
        await _assert_refused(response, 400)
        assert "nests deeper" in response.json()["detail"]
    assert await _row_counts(sessionmaker) == before
    # Brackets inside strings (escaped quotes too) are text, not nesting.
    venue = {"name": '\\"[' * 60 + "{", "city": "C", "timezone": "UTC"}
    response = await client.post("/api/venues", headers=setup.admin.headers, json=venue)
    assert response.status_code == 201, response.text


async def test_nul_in_any_string_field_is_422_naming_it(client, setup, sessionmaker) -> None:
    before = await _row_counts(sessionmaker)
    for path, body in _valid_bodies(setup).items():
        field = next(key for key, value in body.items() if isinstance(value, str)
                     and not key.endswith("_at"))
        response = await client.post(
            path, headers=setup.admin.headers, json={**body, field: body[field] + "\x00x"}
        )
        await _assert_refused(response, 422)
        assert field in response.json()["detail"]
        if path != "/api/drops":  # the drop's one text field is an enum, refused as such
            assert "NUL" in response.json()["detail"]
    # In a nested model too (a scan inside an offline batch).
    scan = {"payload": "TQ\x00", "gate": "East", "nonce": "nonce-0001",
            "scanned_at": iso(datetime.now(UTC))}
    response = await client.post(
        f"/api/events/{setup.event_id}/offline-scans",
        headers=setup.admin.headers,
        json={"device_id": "door-1", "scans": [scan]},
    )
    await _assert_refused(response, 422)
    assert "scans.0.payload" in response.json()["detail"]
    assert await _row_counts(sessionmaker) == before


@pytest.mark.parametrize("value", [2**63, 2**64 + 5, 0, -1])
async def test_ids_outside_bigint_in_bodies_are_422(client, setup, sessionmaker, value) -> None:
    before = await _row_counts(sessionmaker)
    bodies = _valid_bodies(setup)
    for path, field in (("/api/events", "venue_id"), ("/api/drops", "event_id")):
        response = await client.post(
            path, headers=setup.admin.headers, json={**bodies[path], field: value}
        )
        await _assert_refused(response, 422)
        assert field in response.json()["detail"]
    assert await _row_counts(sessionmaker) == before


@pytest.mark.parametrize("ticket", ["\x00", "1~1." + "9" * 40 + ".sig", "x" * 5000, ""])
async def test_bad_query_tickets_are_4xx(client, setup, ticket) -> None:
    response = await client.get(
        f"/api/drops/{setup.drop_id}/queue", params={"ticket": ticket}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]

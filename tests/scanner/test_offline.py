"""Scanner bundle and offline uploads: idempotent, earliest admission wins, conflicts reported."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import AuditEntry
from scanner.models import CheckIn
from scanner.payload import decode
from tests.scanner.factory import Door, issue, live_payload, make_door, scan_body, set_status


def _iso(moment: datetime) -> str:
    return moment.isoformat()


async def _upload(client: httpx.AsyncClient, door: Door, device: str,
                  scans: list[dict[str, object]]) -> list[dict[str, object]]:
    response = await client.post(f"/api/events/{door.event_id}/offline-scans",
                                 headers=door.scanner.headers,
                                 json={"device_id": device, "scans": scans})
    assert response.status_code == 200, response.text
    results: list[dict[str, object]] = response.json()["results"]
    return results


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def test_bundle_has_public_keys_and_revocations_only(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    good, refunded = await issue(sessionmaker, door, count=2)
    payload = await live_payload(client, door.fan, good)
    await set_status(sessionmaker, refunded, "refunded")
    response = await client.get(f"/api/events/{door.event_id}/scanner-bundle?tickets=1",
                                headers=door.scanner.headers)
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["revoked"] == [refunded]
    assert bundle["tickets"] == [[good, door.setup.tier_ids["GA"]]]
    assert bundle["format_version"] == 1 and bundle["code_period_s"] == 15
    [key] = bundle["keys"]
    raw = _b64(key["public_key"])
    assert len(raw) == 32  # a public key; nothing private is in the bundle
    scanned = decode(payload)
    Ed25519PublicKey.from_public_bytes(raw).verify(scanned.signature,
                                                   scanned.claims.signed_message())
    assert "seed" not in response.text and "private" not in response.text


async def test_offline_upload_twice_gives_the_same_results(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    first, second = await issue(sessionmaker, door, count=2)
    at = datetime.now(UTC) - timedelta(minutes=5)
    scans = [
        {"payload": await live_payload(client, door.fan, first), "gate": "East",
         "nonce": "offline-nonce-1", "scanned_at": _iso(at)},
        {"payload": await live_payload(client, door.fan, second), "gate": "East",
         "nonce": "offline-nonce-2", "scanned_at": _iso(at + timedelta(seconds=3))},
        {"payload": "JUNK", "gate": "East", "nonce": "offline-nonce-3", "scanned_at": _iso(at)},
    ]
    once = await _upload(client, door, "door-east", scans)
    twice = await _upload(client, door, "door-east", scans)
    assert once == twice
    assert [r["result"] for r in once] == ["valid", "valid", "invalid"]
    async with sessionmaker() as session:
        row = await session.get(CheckIn, first)
        assert row is not None and row.source == "offline" and row.gate == "East"
        assert abs((row.scanned_at - at).total_seconds()) < 1


async def test_conflicting_offline_admissions_earliest_wins_and_is_reported(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    payload = await live_payload(client, door.fan, ticket)
    early = datetime.now(UTC) - timedelta(minutes=10)
    # West uploads first, but North (offline too) admitted the same ticket earlier.
    west = await _upload(client, door, "door-west", [
        {"payload": payload, "gate": "West", "nonce": "west-nonce-1",
         "scanned_at": _iso(early + timedelta(minutes=2))}])
    assert west[0]["result"] == "valid" and west[0]["conflict"] is False
    north = await _upload(client, door, "door-north", [
        {"payload": payload, "gate": "North", "nonce": "north-nonce-1", "scanned_at": _iso(early)}])
    assert north[0]["result"] == "valid" and north[0]["conflict"] is True
    assert north[0]["first_gate"] == "North"
    # A third, later admission loses.
    south = await _upload(client, door, "door-south", [
        {"payload": payload, "gate": "South", "nonce": "south-nonce-1",
         "scanned_at": _iso(early + timedelta(minutes=5))}])
    assert south[0]["result"] == "duplicate" and south[0]["first_gate"] == "North"
    async with sessionmaker() as session:
        row = await session.get(CheckIn, ticket)
        assert row is not None and row.gate == "North"
        audits = list(await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "scan.conflict", AuditEntry.subject_id == str(door.event_id))))
    assert len(audits) == 2
    report = await client.get(f"/api/events/{door.event_id}/scan-conflicts",
                              headers=door.setup.admin.headers)
    assert report.status_code == 200
    conflicts = report.json()["conflicts"]
    assert [(c["kept"]["gate"], c["lost"]["gate"]) for c in conflicts] == [
        ("North", "West"), ("North", "South")]
    assert (await client.get(f"/api/events/{door.event_id}/scan-conflicts",
                             headers=door.scanner.headers)).status_code == 403
    # Online scans after the fact see the earliest admission.
    online = await client.post("/api/scan", headers=door.scanner.headers,
                               json=scan_body(await live_payload(client, door.fan, ticket)))
    assert online.json()["result"] == "duplicate" and online.json()["first_gate"] == "North"


async def test_offline_scan_after_an_online_one_is_a_reported_duplicate(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    payload = await live_payload(client, door.fan, ticket)
    online = await client.post("/api/scan", headers=door.scanner.headers, json=scan_body(payload))
    assert online.json()["result"] == "valid"
    late = await _upload(client, door, "door-late", [
        {"payload": payload, "gate": "Back", "nonce": "late-nonce-1",
         "scanned_at": _iso(datetime.now(UTC) + timedelta(hours=1))}])  # clock ahead: clamped
    assert late[0]["result"] == "duplicate" and late[0]["conflict"] is True


async def test_offline_upload_of_revoked_or_foreign_tickets(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    other = await make_door(client)
    [revoked] = await issue(sessionmaker, door)
    [foreign] = await issue(sessionmaker, other)
    revoked_code = await live_payload(client, door.fan, revoked)
    foreign_code = await live_payload(client, other.fan, foreign)
    await set_status(sessionmaker, revoked, "refunded")
    now = _iso(datetime.now(UTC))
    results = await _upload(client, door, "door-x", [
        {"payload": revoked_code, "gate": "G", "nonce": "revoked-nonce", "scanned_at": now},
        {"payload": foreign_code, "gate": "G", "nonce": "foreign-nonce", "scanned_at": now}])
    assert [r["result"] for r in results] == ["refunded", "invalid"]
    async with sessionmaker() as session:
        assert await session.get(CheckIn, foreign) is None


async def test_offline_upload_refuses_bad_input(client: httpx.AsyncClient) -> None:
    door = await make_door(client)
    url = f"/api/events/{door.event_id}/offline-scans"
    naive = {"device_id": "d", "scans": [{"payload": "x", "gate": "g", "nonce": "n" * 10,
                                          "scanned_at": "2026-12-01T20:00:00"}]}
    assert (await client.post(url, headers=door.scanner.headers, json=naive)).status_code == 422
    empty = {"device_id": "d", "scans": []}
    assert (await client.post(url, headers=door.scanner.headers, json=empty)).status_code == 422
    unknown = await client.post("/api/events/999999/offline-scans", headers=door.scanner.headers,
                                json={**naive, "scans": [{**naive["scans"][0],  # type: ignore[dict-item]
                                                          "scanned_at": "2026-12-01T20:00:00Z"}]})
    assert unknown.status_code == 404
    assert (await client.get("/api/events/abc/scanner-bundle",
                             headers=door.scanner.headers)).status_code == 404


async def test_key_rotation_retires_and_revokes(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    old = await live_payload(client, door.fan, ticket)
    rotate = f"/api/events/{door.event_id}/scanner-keys/rotate"
    assert (await client.post(rotate, headers=door.scanner.headers, json={})).status_code == 403
    rotated = await client.post(rotate, headers=door.setup.admin.headers, json={})
    assert rotated.json()["key_id"] == 2
    new = await live_payload(client, door.fan, ticket)
    assert decode(new).claims.key_id == 2 and decode(old).claims.key_id == 1
    revoked = await client.post(rotate, headers=door.setup.admin.headers,
                                json={"revoke_previous": True})
    assert revoked.json()["key_id"] == 3
    answer = await client.post("/api/scan", headers=door.scanner.headers, json=scan_body(new))
    assert answer.json()["result"] == "invalid"  # key 2 was revoked
    bundle = await client.get(f"/api/events/{door.event_id}/scanner-bundle",
                              headers=door.scanner.headers)
    assert [k["key_id"] for k in bundle.json()["keys"]] == [3]
    newest = await live_payload(client, door.fan, ticket)
    answer = await client.post("/api/scan", headers=door.scanner.headers, json=scan_body(newest))
    assert answer.json()["result"] == "valid"


async def test_offline_admission_with_a_stale_code_is_flagged(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    fresh_ticket, stale_ticket = await issue(sessionmaker, door, count=2)
    now = datetime.now(UTC)
    results = await _upload(client, door, "door-stale", [
        {"payload": await live_payload(client, door.fan, fresh_ticket), "gate": "G",
         "nonce": "fresh-code-1", "scanned_at": _iso(now)},
        {"payload": await live_payload(client, door.fan, stale_ticket), "gate": "G",
         "nonce": "stale-code-1", "scanned_at": _iso(now - timedelta(minutes=30))}])
    assert [r["result"] for r in results] == ["valid", "valid"]
    assert results[0]["reason"] is None
    assert "screenshot" in str(results[1]["reason"])
    async with sessionmaker() as session:
        flagged = list(await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "scan.stale_code", AuditEntry.subject_id == str(door.event_id))))
    assert [entry.details["ticket_id"] for entry in flagged] == [stale_ticket]


async def _bundle_token(client: httpx.AsyncClient, door: Door) -> str:
    response = await client.get(f"/api/events/{door.event_id}/scanner-bundle",
                                headers=door.scanner.headers)
    token: str = response.json()["bundle_token"]
    return token


async def test_an_offline_scan_never_displaces_an_online_one(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    online = await client.post("/api/scan", headers=door.scanner.headers,
                               json=scan_body(await live_payload(client, door.fan, ticket)))
    assert online.json()["result"] == "valid"
    # Claims to be earlier than the online check-in, yet plausible: still only a duplicate.
    earlier = await _upload(client, door, "door-early", [
        {"payload": await live_payload(client, door.fan, ticket), "gate": "Side",
         "nonce": "earlier-nonce-1",
         "scanned_at": _iso(datetime.now(UTC) - timedelta(minutes=20))}])
    assert earlier[0]["result"] == "duplicate" and earlier[0]["conflict"] is True
    async with sessionmaker() as session:
        row = await session.get(CheckIn, ticket)
        assert row is not None and row.source == "online" and row.gate == "North"


async def test_scan_times_before_the_ticket_or_the_bundle_are_not_believed(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    sold_at = datetime.now(UTC) - timedelta(hours=2)
    before_sale, before_bundle, fine = await issue(sessionmaker, door, count=3, issued_at=sold_at)
    token = await _bundle_token(client, door)
    scans = [
        {"payload": await live_payload(client, door.fan, before_sale), "gate": "G",
         "nonce": "three-days-early", "scanned_at": _iso(sold_at - timedelta(days=3))},
        {"payload": await live_payload(client, door.fan, before_bundle), "gate": "G",
         "nonce": "before-bundle-1", "scanned_at": _iso(datetime.now(UTC) - timedelta(hours=1))},
        {"payload": await live_payload(client, door.fan, fine), "gate": "G",
         "nonce": "after-bundle-1", "scanned_at": _iso(datetime.now(UTC))},
    ]
    response = await client.post(f"/api/events/{door.event_id}/offline-scans",
                                 headers=door.scanner.headers,
                                 json={"device_id": "door-clock", "bundle_token": token,
                                       "scans": scans})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["result"] for r in results] == ["valid", "valid", "valid"]
    assert ["impossible" in str(r["reason"]) for r in results] == [True, True, False]
    async with sessionmaker() as session:
        for ticket in (before_sale, before_bundle):
            row = await session.get(CheckIn, ticket)
            assert row is not None and row.scanned_at > datetime.now(UTC) - timedelta(minutes=5)
        flagged = list(await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "scan.clock_out_of_bounds",
            AuditEntry.subject_id == str(door.event_id))))
    assert sorted(e.details["ticket_id"] for e in flagged) == sorted([before_sale, before_bundle])


async def test_a_forged_or_foreign_bundle_token_is_422(client: httpx.AsyncClient) -> None:
    door = await make_door(client)
    other = await make_door(client)
    scan = {"payload": "JUNK", "gate": "G", "nonce": "token-nonce-1",
            "scanned_at": _iso(datetime.now(UTC))}
    for token in ("1~2.forged.sig", await _bundle_token(client, other)):
        response = await client.post(f"/api/events/{door.event_id}/offline-scans",
                                     headers=door.scanner.headers,
                                     json={"device_id": "d-1", "bundle_token": token,
                                           "scans": [scan]})
        assert response.status_code == 422, response.text
        assert "bundle_token" in response.json()["detail"]

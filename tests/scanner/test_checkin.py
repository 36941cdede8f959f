"""POST /api/scan: the atomic check-in, forged codes, refunds, stale codes, authorisation."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from core.clock import utcnow
from gateway.context import app_services
from scanner.codes import code_was_shown_before, current_code
from scanner.keyring import KeyRing
from scanner.models import CheckIn
from scanner.payload import TicketClaims, decode, encode
from scanner.verify import EXPIRED_LOOKBACK_S
from tests.scanner.factory import (
    add_scanner,
    issue,
    live_payload,
    make_door,
    scan_body,
    set_status,
)
from tests.support.api import create_drop_setup, sign_up


def _ring(app: Starlette) -> KeyRing:
    ring: KeyRing = app_services(app).ticket_keyring
    return ring


async def _scan(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, object],
) -> dict:
    response = await client.post("/api/scan", headers=headers, json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_first_scan_valid_second_duplicate_with_when_and_where(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door, tier="VIP")
    payload = await live_payload(client, door.fan, ticket)
    first = await _scan(client, door.scanner.headers, scan_body(payload, gate="North"))
    assert first["result"] == "valid"
    assert first["ticket_id"] == ticket and first["tier"] == "VIP" and first["holder"] == "Fan"
    assert first["first_gate"] == "North" and first["first_scanned_at"]
    second = await _scan(client, door.scanner.headers,
                         scan_body(payload, gate="South", device="door-2"))
    assert second["result"] == "duplicate"
    assert second["first_gate"] == "North"
    assert second["first_scanned_at"] == first["first_scanned_at"]
    listed = await client.get("/api/me/tickets", headers=door.fan.headers)
    assert listed.json()["tickets"][0]["checked_in_at"] is not None


async def test_same_nonce_gets_the_same_answer(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    payload = await live_payload(client, door.fan, ticket)
    body = scan_body(payload, nonce="retry-nonce-1")
    answers = [await _scan(client, door.scanner.headers, body) for _ in range(3)]
    assert [a["result"] for a in answers] == ["valid"] * 3
    assert answers[0] == answers[1] == answers[2]


async def test_fifty_concurrent_scans_admit_exactly_one(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    payload = await live_payload(client, door.fan, ticket)
    bodies = [scan_body(payload, gate=f"Gate {i % 5}", device=f"door-{i}") for i in range(50)]
    answers = await asyncio.gather(*(_scan(client, door.scanner.headers, b) for b in bodies))
    results = [answer["result"] for answer in answers]
    assert results.count("valid") == 1
    assert results.count("duplicate") == 49
    winner = next(answer for answer in answers if answer["result"] == "valid")
    assert {answer["first_gate"] for answer in answers} == {winner["first_gate"]}
    async with sessionmaker() as session:
        rows = await session.scalar(select(func.count()).select_from(CheckIn)
                                    .where(CheckIn.ticket_id == ticket))
    assert rows == 1


async def test_same_nonce_raced_concurrently_is_still_one_valid_answer(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    payload = await live_payload(client, door.fan, ticket)
    body = scan_body(payload, nonce="raced-nonce-1")
    answers = await asyncio.gather(*(_scan(client, door.scanner.headers, body) for _ in range(10)))
    assert {answer["result"] for answer in answers} == {"valid"}


def _forge(text: str, mutate: object) -> str:
    raw = bytearray(base64.b32decode(text + "=" * (-len(text) % 8)))
    mutate(raw)  # type: ignore[operator]
    return base64.b32encode(bytes(raw)).decode().rstrip("=")


def _flip(index: int) -> object:
    def mutate(raw: bytearray) -> None:
        raw[index] ^= 0x01
    return mutate


@pytest.mark.parametrize(("name", "mutate"), [
    ("flipped ticket byte", _flip(5)),
    ("flipped tier byte", _flip(26)),
    ("flipped signature byte", _flip(40)),
    ("truncated", lambda raw: raw.__delitem__(slice(80, None))),
    ("wrong version", lambda raw: raw.__setitem__(0, 9)),
    ("unknown key id", lambda raw: raw.__setitem__(2, 77)),
])
async def test_forged_codes_are_invalid(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession],
        name: str, mutate: object) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    forged = _forge(await live_payload(client, door.fan, ticket), mutate)
    answer = await _scan(client, door.scanner.headers, scan_body(forged))
    assert answer["result"] == "invalid", name
    async with sessionmaker() as session:
        assert await session.get(CheckIn, ticket) is None


async def test_code_signed_with_another_events_key_is_invalid(
        client: httpx.AsyncClient, app: Starlette,
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    other = await create_drop_setup(client, admin=door.setup.admin)
    other_key = TicketClaims(key_id=1, ticket_id=ticket, event_id=other.event_id, tier_id=0)
    genuine = decode(await live_payload(client, door.fan, ticket))
    # The real claims, signed by the other event's key: the signature must not verify.
    forged = encode(genuine.claims, _ring(app).sign(other_key)[:64], genuine.code)
    answer = await _scan(client, door.scanner.headers, scan_body(forged))
    assert answer["result"] == "invalid"
    assert "signature" in answer["reason"]


async def test_garbage_is_invalid_not_an_error(client: httpx.AsyncClient) -> None:
    door = await make_door(client)
    for junk in ["hello", "A" * 151, "1f0c9a2b-123456"]:
        answer = await _scan(client, door.scanner.headers, scan_body(junk, event_id=door.event_id))
        assert answer["result"] == "invalid"


async def test_refunded_and_reissued_tickets_answer_refunded(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    refunded, reissued = await issue(sessionmaker, door, count=2)
    payload = await live_payload(client, door.fan, refunded)
    old_code = await live_payload(client, door.fan, reissued)
    await set_status(sessionmaker, refunded, "refunded")
    answer = await _scan(client, door.scanner.headers, scan_body(payload))
    assert answer["result"] == "refunded" and answer["ticket_id"] == refunded
    replaced = await client.post(f"/api/tickets/{reissued}/reissue",
                                 headers=door.setup.admin.headers)
    assert replaced.status_code == 201, replaced.text
    answer = await _scan(client, door.scanner.headers, scan_body(old_code))
    assert answer["result"] == "refunded"
    fresh = await live_payload(client, door.fan, replaced.json()["ticket_id"])
    assert (await _scan(client, door.scanner.headers, scan_body(fresh)))["result"] == "valid"
    gone = await client.get(f"/api/me/tickets/{refunded}/code", headers=door.fan.headers)
    assert gone.status_code == 410


async def test_stale_rotating_code_is_invalid_online(
        client: httpx.AsyncClient, app: Starlette,
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    genuine = decode(await live_payload(client, door.fan, ticket))
    ring = _ring(app)
    old = current_code(ring.code_secret(ticket), utcnow() - timedelta(minutes=2), 15)
    screenshot = encode(genuine.claims, genuine.signature, old)
    answer = await _scan(client, door.scanner.headers, scan_body(screenshot))
    assert answer["result"] == "invalid" and "expired" in answer["reason"]
    fresh = await live_payload(client, door.fan, ticket)
    assert (await _scan(client, door.scanner.headers, scan_body(fresh)))["result"] == "valid"


async def test_manual_code_checks_in_online(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    code = await client.get(f"/api/me/tickets/{ticket}/code", headers=door.fan.headers)
    manual = code.json()["manual_code"]
    assert manual.startswith(ticket[:8])
    answer = await _scan(client, door.scanner.headers, scan_body(manual, event_id=door.event_id))
    assert answer["result"] == "valid"
    wrong = f"{ticket[:8]}-{(int(manual[-6:]) + 1) % 1_000_000:06d}"
    answer = await _scan(client, door.scanner.headers, scan_body(wrong, event_id=door.event_id))
    assert answer["result"] == "invalid"


def _typo_of(secret: bytes, code: int) -> int:
    """A 6-digit code one digit off `code` that was not the ticket's code lately either."""
    for digit in range(6):
        for delta in range(1, 10):
            text = f"{code:06d}"
            typed = text[:digit] + str((int(text[digit]) + delta) % 10) + text[digit + 1:]
            if not code_was_shown_before(secret, int(typed), utcnow(), 15,
                                         steps_back=EXPIRED_LOOKBACK_S // 15 + 2):
                return int(typed)
    raise AssertionError("every typo was a recent code")


async def test_mistyped_manual_code_does_not_match_and_an_old_one_expired(
        client: httpx.AsyncClient, app: Starlette,
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Door staff need to know whether to retype (a typo) or send the fan to refresh."""
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    secret = _ring(app).code_secret(ticket)
    live = current_code(secret, utcnow(), 15)
    typo = f"{ticket[:8]}-{_typo_of(secret, live):06d}"
    answer = await _scan(client, door.scanner.headers, scan_body(typo, event_id=door.event_id))
    assert answer["result"] == "invalid"
    assert answer["reason"].startswith("code does not match") and "expired" not in answer["reason"]
    old = current_code(secret, utcnow() - timedelta(minutes=20), 15)
    answer = await _scan(client, door.scanner.headers,
                         scan_body(f"{ticket[:8]}{old:06d}", event_id=door.event_id))
    assert answer["result"] == "invalid" and answer["reason"].startswith("code expired")
    # The answer keeps its contract: the same fields as every scan answer.
    assert set(answer) == {"result", "ticket_id", "tier", "holder", "first_scanned_at",
                           "first_gate", "reason", "nonce", "event_id", "conflict"}
    async with sessionmaker() as session:
        assert await session.get(CheckIn, ticket) is None


async def test_ticket_for_another_event_of_the_same_venue_is_invalid(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    [ticket] = await issue(sessionmaker, door)
    payload = await live_payload(client, door.fan, ticket)
    answer = await _scan(client, door.scanner.headers,
                         scan_body(payload, event_id=door.event_id + 100_000))
    assert answer["result"] == "invalid"


async def test_scanner_of_venue_a_cannot_scan_venue_b(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    venue_a = await make_door(client)
    venue_b = await make_door(client)
    [ticket] = await issue(sessionmaker, venue_b)
    payload = await live_payload(client, venue_b.fan, ticket)
    refused = await client.post("/api/scan", headers=venue_a.scanner.headers,
                                json=scan_body(payload))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    fan = await client.post("/api/scan", headers=venue_b.fan.headers, json=scan_body(payload))
    assert fan.status_code == 403
    bundle = await client.get(f"/api/events/{venue_b.event_id}/scanner-bundle",
                              headers=venue_a.scanner.headers)
    assert bundle.status_code == 403
    async with sessionmaker() as session:
        assert await session.get(CheckIn, ticket) is None
    assert (await _scan(client, venue_b.scanner.headers, scan_body(payload)))["result"] == "valid"


@pytest.mark.parametrize("body", [
    {"payload": "x", "gate": "g", "device_id": "d"},
    {"payload": "x", "gate": "g", "device_id": "bad device!", "nonce": "n" * 10},
    {"payload": "x", "gate": "g", "device_id": "d", "nonce": "short"},
    {"payload": 5, "gate": "g", "device_id": "d", "nonce": "n" * 10},
    {"payload": "x", "gate": "g", "device_id": "d", "nonce": "n" * 10, "extra": 1},
    {"payload": "x", "gate": "g", "device_id": "d", "nonce": "n" * 10, "event_id": "7"},
    {"payload": "x", "gate": "g", "device_id": "d", "nonce": "n" * 10, "event_id": 2**64},
    {"payload": "x", "gate": "a\u0000b", "device_id": "d", "nonce": "n" * 10},
    {"payload": "x", "gate": "", "device_id": "d", "nonce": "n" * 10},
])
async def test_bad_bodies_are_422(client: httpx.AsyncClient, body: dict[str, object]) -> None:
    door = await make_door(client)
    response = await client.post("/api/scan", headers=door.scanner.headers, json=body)
    assert response.status_code == 422, response.text


async def test_unauthenticated_and_forged_tokens_are_401(client: httpx.AsyncClient) -> None:
    body = scan_body("x" * 10)
    assert (await client.post("/api/scan", json=body)).status_code == 401
    forged = {"Authorization": "Bearer not-a-token"}
    assert (await client.post("/api/scan", json=body, headers=forged)).status_code == 401
    broken = await client.post("/api/scan", content=b"{", headers={
        **forged, "Content-Type": "application/json"})
    assert broken.status_code == 401


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    door = await make_door(client)
    response = await client.post("/api/scan", content=b"{not json", headers={
        **door.scanner.headers, "Content-Type": "application/json"})
    assert response.status_code == 400


async def test_a_device_over_its_rate_is_429(client: httpx.AsyncClient, app: Starlette) -> None:
    from core.redis_keys import RateKey
    from scanner.ratelimit import SCOPE, WINDOW_S
    door = await make_door(client)
    device = f"busy-{uuid.uuid4().hex[:8]}"
    limit = app_services(app).settings.scanner_rate_per_minute
    window = int(utcnow().timestamp()) // WINDOW_S
    for each in (window, window + 1):
        await app_services(app).redis.set(RateKey(SCOPE, device).window(each), limit, ex=180)
    response = await client.post("/api/scan", headers=door.scanner.headers,
                                 json=scan_body("x" * 10, device=device))
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    other = await client.post("/api/scan", headers=door.scanner.headers,
                              json=scan_body("x" * 10, device=f"calm-{uuid.uuid4().hex[:8]}"))
    assert other.status_code == 200


async def test_a_new_scanner_added_later_can_scan(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    late = await add_scanner(client, door.setup, "late")
    [ticket] = await issue(sessionmaker, door)
    payload = await live_payload(client, door.fan, ticket)
    assert (await _scan(client, late.headers, scan_body(payload)))["result"] == "valid"
    stranger = await sign_up(client, "stranger")
    assert (await client.get(f"/api/me/tickets/{ticket}/code", headers=stranger.headers)
            ).status_code == 404


async def test_a_reused_nonce_never_admits_a_second_ticket(
        client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    door = await make_door(client)
    first, second = await issue(sessionmaker, door, count=2)
    body = scan_body(await live_payload(client, door.fan, first), nonce="reused-nonce-1")
    assert (await _scan(client, door.scanner.headers, body))["ticket_id"] == first
    body["payload"] = await live_payload(client, door.fan, second)
    again = await _scan(client, door.scanner.headers, body)
    assert again["ticket_id"] == first and again["result"] == "valid"
    async with sessionmaker() as session:
        assert await session.get(CheckIn, second) is None

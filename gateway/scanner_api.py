"""Door scanning over HTTP: check-in, the offline bundle and uploads, fans' live QR codes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from catalog.authz import require_venue_admin
from gateway import scanner_pages
from gateway.auth import require_user, require_user_id
from gateway.bodies import Id, StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.problems import Problem
from gateway.schemas import scanner as schemas
from gateway.totp_api import require_fresh_second_factor
from scanner import bundle, checkin, door_codes, keyring, offline, tickets
from scanner.ratelimit import ScanLimits, check_scanner_limits, is_manual_code
from scanner.verify import authorised_event

DeviceId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Nonce = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
# Gates are free text staff type, but never control characters (Postgres text has no NUL).
Gate = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Payload = Annotated[str, Field(min_length=1, max_length=400)]


class ScanBody(StrictBody):
    payload: Payload
    gate: Gate
    device_id: DeviceId
    nonce: Nonce
    event_id: Id | None = None


class OfflineScanBody(StrictBody):
    payload: Payload
    gate: Gate
    nonce: Nonce
    scanned_at: datetime


class OfflineBatchBody(StrictBody):
    device_id: DeviceId
    # The scanner bundle's bundle_token: bounds how early the scans can claim to be.
    bundle_token: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    scans: Annotated[list[OfflineScanBody], Field(min_length=1, max_length=offline.MAX_BATCH)]


class RotateBody(StrictBody):
    revoke_previous: bool = False


class DoorCodesBody(StrictBody):
    static_codes_allowed: bool


def _keyring(request: Request) -> keyring.KeyRing:
    ring: keyring.KeyRing = services_of(request).ticket_keyring
    return ring


def _now(request: Request) -> datetime:
    moment: datetime = services_of(request).clock()
    return moment


def _limits(request: Request) -> ScanLimits:
    return ScanLimits.from_settings(services_of(request).settings)


def _period(request: Request) -> int:
    return int(services_of(request).settings.scanner_code_period_s)


@documented(body=ScanBody, response=schemas.ScanAnswer, auth="scanner")
async def scan(request: Request) -> Response:
    """Check a ticket in at the door: valid | duplicate | invalid | refunded.

    Only scanners (or admins) of the ticket's venue. The same (device_id, nonce)
    always gets the same answer. Rate-limited per device, account and event
    (manual codes much more tightly).
    """
    user_id = await require_user_id(request)
    body = await read_json(request, ScanBody)
    now = _now(request)
    await check_scanner_limits(services_of(request).scripts, _limits(request),
                               device_id=body.device_id, user_id=user_id,
                               event_id=body.event_id, now=now,
                               manual=int(is_manual_code(body.payload)))
    user = await require_user(request)
    async with services_of(request).sessionmaker() as session:
        answer = await checkin.scan_online(
            session, _keyring(request), user, payload=body.payload, gate=body.gate,
            device_id=body.device_id, nonce=body.nonce, event_id=body.event_id, now=now,
            period_s=_period(request))
    return JSONResponse(answer)


@documented(response=schemas.ScannerBundle, auth="scanner")
async def scanner_bundle(request: Request) -> Response:
    """What a door device needs offline: public keys, revocation list, checked-in tickets.

    Add `?tickets=1` for the list of valid tickets too.
    """
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    include = request.query_params.get("tickets", "") in {"1", "true"}
    async with services_of(request).sessionmaker() as session:
        body = await bundle.scanner_bundle(session, _keyring(request), user, event_id,
                                           now=_now(request), period_s=_period(request),
                                           include_tickets=include)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@documented(body=OfflineBatchBody, response=schemas.OfflineResults, auth="scanner")
async def offline_scans(request: Request) -> Response:
    """Upload admissions made offline; idempotent per nonce, the earliest admission wins."""
    user_id = await require_user_id(request)
    event_id: int = request.path_params["event_id"]
    body = await read_json(request, OfflineBatchBody)
    if any(item.scanned_at.tzinfo is None for item in body.scans):
        raise Problem(422, "scanned_at needs a timezone offset, e.g. 2026-12-01T20:00:00Z")
    now = _now(request)
    await check_scanner_limits(services_of(request).scripts, _limits(request),
                               device_id=body.device_id, user_id=user_id, event_id=event_id,
                               now=now)  # one upload, as before: it carries no manual codes
    user = await require_user(request)
    scans = [offline.OfflineScan(payload=item.payload, gate=item.gate, nonce=item.nonce,
                                 scanned_at=item.scanned_at) for item in body.scans]
    issued_at = (bundle.bundle_issued_at(_keyring(request), body.bundle_token, event_id)
                 if body.bundle_token else None)
    skew = timedelta(seconds=services_of(request).settings.offline_scan_skew_s)
    async with services_of(request).sessionmaker() as session:
        answers = await offline.upload_offline_scans(
            session, _keyring(request), user, event_id=event_id, device_id=body.device_id,
            scans=scans, now=now, period_s=_period(request), skew=skew,
            bundle_issued_at=issued_at)
    return JSONResponse({"results": answers})


@documented(response=schemas.ScanConflicts, auth="venue_admin")
async def scan_conflicts(request: Request) -> Response:
    """Tickets admitted twice by gates that were offline, with which admission was kept."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    async with services_of(request).sessionmaker() as session:
        event = await authorised_event(session, user, event_id)
        await require_venue_admin(session, user, event.venue_id)
        conflicts = await offline.list_conflicts(session, event_id)
    return JSONResponse({"event_id": event_id, "conflicts": conflicts})


@documented(body=RotateBody, response=schemas.RotatedKey, auth="venue_admin")
async def rotate_key(request: Request) -> Response:
    """Start signing the event's codes with a new key id (old one retired or revoked).

    An account with 2FA needs a fresh second factor (or X-TOTP-Code; docs/accounts.md)."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    body = await read_json(request, RotateBody)
    await require_fresh_second_factor(request)
    async with services_of(request).sessionmaker() as session:
        event = await authorised_event(session, user, event_id)
        await require_venue_admin(session, user, event.venue_id)
        key_id = await keyring.rotate(session, event_id, now=_now(request),
                                      revoke_previous=body.revoke_previous,
                                      actor_user_id=user.id)
        await session.commit()
    return JSONResponse({"event_id": event_id, "key_id": key_id})


@documented(body=DoorCodesBody, response=schemas.DoorCodes, auth="venue_admin")
async def set_door_codes(request: Request) -> Response:
    """Whether the door accepts printed (static) codes, or only the phone's rotating one."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    body = await read_json(request, DoorCodesBody)
    async with services_of(request).sessionmaker() as session:
        allowed = await door_codes.set_static_codes(session, user, event_id,
                                                    allowed=body.static_codes_allowed)
    return JSONResponse({"event_id": event_id, "static_codes_allowed": allowed})


@documented(response=schemas.ScannableEvents, auth="scanner")
async def scannable_events(request: Request) -> Response:
    """Events the caller may scan for (published, not yet over)."""
    user = await require_user(request)
    async with services_of(request).sessionmaker() as session:
        events = await bundle.scannable_events(session, user, now=_now(request))
    return JSONResponse({"events": events})


@documented(response=schemas.FanTickets, auth="user")
async def my_tickets(request: Request) -> Response:
    """The signed-in fan's tickets, with event, tier and check-in time."""
    user_id = await require_user_id(request)
    async with services_of(request).sessionmaker() as session:
        found = await tickets.fan_tickets(session, user_id)
    return JSONResponse({"tickets": found})


@documented(response=schemas.TicketCode, auth="user")
async def ticket_code(request: Request) -> Response:
    """The ticket's QR for the current period (SVG + text); fetch again when it expires."""
    user_id = await require_user_id(request)
    ticket_id = str(request.path_params["ticket_id"])
    async with services_of(request).sessionmaker() as session:
        code = await tickets.live_code(session, _keyring(request), user_id, ticket_id,
                                       now=_now(request), period_s=_period(request))
    return JSONResponse(code, headers={"Cache-Control": "no-store"})


@documented(response=schemas.Reissued, auth="venue_admin", status=201)
async def reissue(request: Request) -> Response:
    """Replace a ticket with a new one; the old id joins the revocation list."""
    user = await require_user(request)
    ticket_id = str(request.path_params["ticket_id"])
    async with services_of(request).sessionmaker() as session:
        replacement = await tickets.reissue_ticket(session, user, ticket_id)
    return JSONResponse({"revoked": ticket_id, "ticket_id": replacement.id}, status_code=201)


routes: list[BaseRoute] = [
    Route("/api/scan", scan, methods=["POST"]),
    Route("/api/scanner/events", scannable_events, methods=["GET"]),
    Route("/api/events/{event_id:id}/scanner-bundle", scanner_bundle, methods=["GET"]),
    Route("/api/events/{event_id:id}/offline-scans", offline_scans, methods=["POST"]),
    Route("/api/events/{event_id:id}/scan-conflicts", scan_conflicts, methods=["GET"]),
    Route("/api/events/{event_id:id}/scanner-keys/rotate", rotate_key, methods=["POST"]),
    Route("/api/events/{event_id:id}/door-codes", set_door_codes, methods=["PUT"]),
    Route("/api/me/tickets", my_tickets, methods=["GET"]),
    Route("/api/me/tickets/{ticket_id:uuid}/code", ticket_code, methods=["GET"]),
    Route("/api/tickets/{ticket_id:uuid}/reissue", reissue, methods=["POST"]),
    *scanner_pages.routes,
]

"""Door scanning: scan answers, the offline bundle, conflicts, keys, fans' tickets and codes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from gateway.schemas.base import Id, ResponseBody, Uuid


class ScanAnswer(ResponseBody):
    """scanner.results.ScanOutcome.as_json; the same (device_id, nonce) repeats it."""

    result: Literal["valid", "duplicate", "invalid", "refunded"]
    nonce: str
    event_id: Id | None
    ticket_id: Uuid | None
    tier: str | None
    holder: str | None
    first_scanned_at: datetime | None
    first_gate: str | None
    reason: str | None
    conflict: bool


class OfflineResults(ResponseBody):
    results: list[ScanAnswer]


class PublicKey(ResponseBody):
    key_id: int
    status: Literal["active", "retired"]
    algorithm: Literal["Ed25519"]
    public_key: str  # base64url, no padding


class ScannerBundle(ResponseBody):
    event_id: Id
    venue_id: Id
    title: str
    generated_at: datetime
    bundle_token: str  # send back with offline uploads: proves when the bundle was issued
    format_version: int
    static_codes_allowed: bool  # printed codes (format 2) admitted; else phone codes only
    code_period_s: int
    keys: list[PublicKey]
    revoked: list[Uuid]
    checked_in: list[Uuid]
    admitted_count: int
    tiers: dict[str, str]  # tier id -> name
    tickets: list[tuple[Uuid, Id]] | None = None  # [ticket id, tier id], with ?tickets=1


class Admission(ResponseBody):
    at: datetime
    gate: str
    device_id: str


class Conflict(ResponseBody):
    id: Id
    ticket_id: Uuid
    detected_at: datetime
    kept: Admission
    lost: Admission


class ScanConflicts(ResponseBody):
    event_id: Id
    conflicts: list[Conflict]


class RotatedKey(ResponseBody):
    event_id: Id
    key_id: int


class DoorCodes(ResponseBody):
    event_id: Id
    static_codes_allowed: bool  # printed codes admitted; false: the phone's rotating code only


class ScannableEvent(ResponseBody):
    id: Id
    title: str
    venue: str
    starts_at: datetime


class ScannableEvents(ResponseBody):
    events: list[ScannableEvent]


class TicketEvent(ResponseBody):
    id: Id
    title: str
    starts_at: datetime
    venue: str
    city: str
    timezone: str  # the venue's IANA zone: the page prints the date on its clock
    image_url: str | None  # the event's picture (as in event JSON), or null


class TicketTier(ResponseBody):
    id: Id
    name: str


class FanTicket(ResponseBody):
    id: Uuid
    status: Literal["valid", "refunded", "cancelled"]
    order_id: Uuid
    holder: str  # the account's name, printed on the ticket
    event: TicketEvent
    tier: TicketTier
    checked_in_at: datetime | None


class FanTickets(ResponseBody):
    tickets: list[FanTicket]


class TicketCode(ResponseBody):
    ticket_id: Uuid
    payload: str
    svg: str
    manual_code: str
    period_s: int
    step: int
    refresh_in_ms: int


class Reissued(ResponseBody):
    revoked: Uuid
    ticket_id: Uuid

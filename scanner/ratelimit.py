"""Door scan rate limits: per device, per account, per event, and tighter for manual codes.

A door device scans a person every second or two; a device sending far more is
broken or scripted. The device id is the client's own word, though: a fresh id per
request would escape a per-device limit alone, so every scan also counts against the
signed-in account (all its devices together) and against the event (all accounts
together). Manual codes (typed `xxxxxxxx-123456`) are the only way to reach a ticket
without its signed QR, so guessing them gets its own, much smaller, budget per account
and per event. Counted by the shared primitive (core.rate_limits); the window is an
input (`now`), as everywhere in TicketQ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clock import to_ms
from core.rate_limits import check_rate
from core.redis_keys import RateKey
from core.script_batching import ScriptBatcher
from core.scripts import ScriptRegistry
from core.settings import Settings
from scanner.verify import MANUAL_CODE

SCOPE = "scan-device"
ACCOUNT_SCOPE = "scan-account"
EVENT_SCOPE = "scan-event"
MANUAL_ACCOUNT_SCOPE = "scan-manual-account"
MANUAL_EVENT_SCOPE = "scan-manual-event"
WINDOW_S = 60

Limiter = ScriptRegistry | ScriptBatcher


@dataclass(frozen=True)
class ScanLimits:
    """Scans a minute: per device, account and event; manual codes per account and event."""

    per_device: int
    per_account: int
    per_event: int
    manual_per_account: int
    manual_per_event: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ScanLimits:
        return cls(per_device=settings.scanner_rate_per_minute,
                   per_account=settings.scanner_rate_per_account_per_minute,
                   per_event=settings.scanner_rate_per_event_per_minute,
                   manual_per_account=settings.scanner_manual_per_account_per_minute,
                   manual_per_event=settings.scanner_manual_per_event_per_minute)


def is_manual_code(payload: str) -> bool:
    return MANUAL_CODE.match(payload.strip()) is not None


async def check_scan_rate(limiter: Limiter, device_id: str, *,
                          limit_per_minute: int, now: datetime, cost: int = 1) -> None:
    """Count `cost` scans for the device; raise RateLimited past the limit."""
    await check_rate(limiter, RateKey(SCOPE, device_id), limit=limit_per_minute,
                     window_s=WINDOW_S, now_ms=to_ms(now), cost=cost,
                     detail=f"this device sent more than {limit_per_minute} scans a minute; "
                            "wait a moment")


async def _count(limiter: Limiter, scope: str, subject: int, limit: int, now: datetime,
                 cost: int, detail: str) -> None:
    await check_rate(limiter, RateKey(scope, str(subject)), limit=limit, window_s=WINDOW_S,
                     now_ms=to_ms(now), cost=cost, detail=detail)


async def check_scanner_limits(limiter: Limiter, limits: ScanLimits, *, device_id: str,
                               user_id: int, event_id: int | None, now: datetime,
                               scans: int = 1, manual: int = 0) -> None:
    """Count `scans` scans (`manual` of them typed codes); raise RateLimited past any limit.

    Checked from the narrowest to the widest, so one noisy device is refused before it
    eats the account's or the event's budget. `event_id` None (a QR scanned without
    naming the event) skips the event limits; manual codes always name it.
    """
    await check_scan_rate(limiter, device_id, limit_per_minute=limits.per_device, now=now,
                          cost=scans)
    await _count(limiter, ACCOUNT_SCOPE, user_id, limits.per_account, now, scans,
                 f"this account sent more than {limits.per_account} scans a minute "
                 "from all its devices; wait a moment")
    if manual:
        await _count(limiter, MANUAL_ACCOUNT_SCOPE, user_id, limits.manual_per_account, now,
                     manual, f"this account typed more than {limits.manual_per_account} "
                             "manual codes a minute; scan the QR or wait a moment")
    if event_id is None:
        return
    await _count(limiter, EVENT_SCOPE, event_id, limits.per_event, now, scans,
                 f"this event received more than {limits.per_event} scans a minute; "
                 "wait a moment")
    if manual:
        await _count(limiter, MANUAL_EVENT_SCOPE, event_id, limits.manual_per_event, now,
                     manual, f"this event received more than {limits.manual_per_event} "
                             "manual codes a minute; scan the QR or wait a moment")

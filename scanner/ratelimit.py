"""Per-device scan rate limit: `limit_per_minute` scans per door device per minute.

A door device scans a person every second or two; a device sending far more is
broken or scripted. Counted by the shared primitive (core.rate_limits), one atomic
script per request. The window is an input (`now`), as everywhere in TicketQ.
"""

from __future__ import annotations

from datetime import datetime

from core.clock import to_ms
from core.rate_limits import check_rate
from core.redis_keys import RateKey
from core.script_batching import ScriptBatcher
from core.scripts import ScriptRegistry

SCOPE = "scan-device"
WINDOW_S = 60


async def check_scan_rate(limiter: ScriptRegistry | ScriptBatcher, device_id: str, *,
                          limit_per_minute: int, now: datetime, cost: int = 1) -> None:
    """Count `cost` scans for the device; raise RateLimited past the limit."""
    await check_rate(limiter, RateKey(SCOPE, device_id), limit=limit_per_minute,
                     window_s=WINDOW_S, now_ms=to_ms(now), cost=cost,
                     detail=f"this device sent more than {limit_per_minute} scans a minute; "
                            "wait a moment")

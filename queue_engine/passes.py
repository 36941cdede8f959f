"""Admission passes: admit the head of the line (paced), and end passes (complete,
revoke, expire), each freeing its active slot.

Liveness lives in Redis (the contract the purchase part's reserve_hold reads):
`DropKeys.active` ZSET str(fan) -> expiry ms and `DropKeys.passes` HASH str(fan) -> pass id;
a pass is live iff passes[fan] == pass_id and active[fan] > now_ms.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from core.scripts import ScriptRegistry, reply_text, run_script

# How many admission tokens may be banked, in ms of the configured rate: enough to
# ride over a missed tick, small enough that a 60 s window of steady pacing stays
# within 5 % of admit_per_minute (2 s of bank + a 0.5 s tick of rounding = 4.2 %).
# A lease takeover is bridged separately (`takeover_ms` below): the gap it leaves is
# owed in full, so it costs nothing over any stretch that contains it; only a window
# cut inside it sees the gap (up to lease + ticks) on one side.
BURST_MS = 2000
# Admissions are kept this long for the observed rate (estimated wait, metrics).
RATE_WINDOW_MS = 60_000
MAX_ADMIT_PER_CALL = 5000


@dataclass(frozen=True)
class AdmitResult:
    admitted: int
    live_passes: int
    line_length: int
    reason: str  # '' | not_open | paused | closed | sold_out


async def admit_batch(
    scripts: ScriptRegistry, drop_id: int, *, now_ms: int, max_per_call: int = MAX_ADMIT_PER_CALL,
    takeover_ms: int = 0, stale_before_ms: int = 0,
) -> AdmitResult:
    """Admit as many fans from the head of the line as both pacing limits allow.

    `takeover_ms`: the longest a drop can go unpaced while its lease changes hands
    (queue_engine.jobs passes lease TTL + two ticks); a gap between calls up to that
    long is admitted in full instead of being capped at BURST_MS. A head fan last heard
    from before `stale_before_ms` leaves the line instead (0: nobody is stale)."""
    nonce = secrets.token_hex(8)
    admitted, live, length, reason = await run_script(
        scripts, "admit_batch", drop_id,
        [now_ms, nonce, max_per_call, BURST_MS, RATE_WINDOW_MS, takeover_ms, stale_before_ms],
    )
    return AdmitResult(int(admitted), int(live), int(length), reply_text(reason))


async def _end_pass(
    scripts: ScriptRegistry, drop_id: int, fan_id: int, *, now_ms: int, reason: str,
    pass_id: str | None,
) -> bool:
    ended = await run_script(scripts, "end_pass", drop_id,
                                   [fan_id, now_ms, reason, pass_id or ""])
    return bool(ended)


async def complete_pass(
    scripts: ScriptRegistry, drop_id: int, fan_id: int, *, now_ms: int
) -> bool:
    """The fan finished buying: end their pass and free the slot. True if a live pass ended."""
    return await _end_pass(scripts, drop_id, fan_id, now_ms=now_ms, reason="completed",
                           pass_id=None)


async def revoke_pass(
    scripts: ScriptRegistry, drop_id: int, fan_id: int, *, now_ms: int,
    pass_id: str | None = None,
) -> bool:
    """Withdraw a pass (a copied token stops working at once). With `pass_id`, only that one."""
    return await _end_pass(scripts, drop_id, fan_id, now_ms=now_ms, reason="revoked",
                           pass_id=pass_id)


async def expire_passes(
    scripts: ScriptRegistry, drop_id: int, *, now_ms: int, limit: int = 5000
) -> int:
    """Remove passes whose session has run out; returns how many."""
    return int(await run_script(scripts, "expire_passes", drop_id,
                                      [now_ms, limit]))

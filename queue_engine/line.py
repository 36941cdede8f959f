"""The line: join, open (the pre-queue shuffle), heartbeat, leave, and where fans stand.

Typed wrappers over the Lua scripts in lua/; every operation is one atomic script,
all keys of a drop under one hash tag (core.redis_keys.DropKeys).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from core.scripts import ScriptRegistry, ScriptRunner, reply_text, run_script


@dataclass(frozen=True)
class Place:
    """A fan's place after joining: `ahead` is None in the pre-queue (no order yet)."""

    created: bool
    state: str  # prequeue | waiting | admitted
    seq: int
    ahead: int | None
    pass_id: str | None
    pass_expires_ms: int | None
    prequeue_size: int


@dataclass(frozen=True)
class Standing:
    """Where one fan stands: state none | prequeue | waiting | admitted | ended."""

    fan_id: int
    state: str
    seq: int
    ahead: int | None
    pass_id: str | None
    pass_expires_ms: int | None


@dataclass(frozen=True)
class Readout:
    """Standings read atomically with the counters they are relative to."""

    admitted_total: int
    departed_total: int
    standings: list[Standing]


@dataclass(frozen=True)
class Removed:
    from_line: int
    from_prequeue: int


def new_seed() -> str:
    """The pre-queue shuffle's seed: 128 bits from the OS CSPRNG."""
    return secrets.token_hex(16)


async def join_line(scripts: ScriptRunner, drop_id: int, fan_id: int, *, now_ms: int,
                    verified: bool = False) -> Place:
    """One place per fan: raises DropNotSynced / OpenPending (caller fixes and retries),
    VerifiedEmailRequired (unless `verified`: the caller checked the fan's account),
    QueueClosed, SoldOut or NotOpenYet."""
    created, state, seq, ahead, pass_id, expires, prequeue_size = await run_script(
        scripts, "join_line", drop_id, [fan_id, now_ms, 1 if verified else 0]
    )
    return Place(
        created=bool(created), state=reply_text(state), seq=int(seq),
        ahead=None if int(ahead) < 0 else int(ahead),
        pass_id=reply_text(pass_id) or None, pass_expires_ms=int(expires) or None,
        prequeue_size=int(prequeue_size),
    )


async def open_line(
    scripts: ScriptRegistry, drop_id: int, *, now_ms: int, seed: str | None = None
) -> tuple[bool, int]:
    """Shuffle the pre-queue into the line, exactly once. Returns (opened_now, count)."""
    opened_now, count = await run_script(
        scripts, "open_line", drop_id, [seed or new_seed(), now_ms]
    )
    return bool(opened_now), int(count)


async def heartbeat(
    scripts: ScriptRegistry, drop_id: int, fan_ids: Sequence[int], *, now_ms: int
) -> list[bool]:
    """Mark fans present; False for a fan who no longer waits (admitted or dropped)."""
    if not fan_ids:
        return []
    flags = await run_script(scripts, "heartbeat_fan", drop_id,
                                   [now_ms, *fan_ids])
    return [bool(flag) for flag in flags]


async def leave_line(scripts: ScriptRegistry, drop_id: int, fan_ids: Sequence[int]) -> Removed:
    """Fans who chose to leave lose their place (they may join again, at the back)."""
    if not fan_ids:
        return Removed(0, 0)
    line, pre = await run_script(scripts, "leave_line", drop_id, list(fan_ids))
    return Removed(int(line), int(pre))


# Fans read per sweep step: a step over a million-fan line costs milliseconds of Redis time
# (loadtest/bench_queue_million.py); 200 ticks go round it, and admit_batch checks the head.
SWEEP_SCAN_COUNT = 5_000


async def drop_stale(
    scripts: ScriptRegistry, drop_id: int, *, now_ms: int, stale_before_ms: int,
    scan_count: int = SWEEP_SCAN_COUNT,
) -> Removed:
    """One bounded step of the sweep that drops fans whose last heartbeat is older than the
    grace period allows (about `scan_count` fans read, from where the last step stopped)."""
    line, pre, _ = await run_script(scripts, "sweep_stale", drop_id,
                                    [now_ms, stale_before_ms, scan_count])
    return Removed(int(line), int(pre))


async def read_fans(
    scripts: ScriptRunner, drop_id: int, fan_ids: Sequence[int], *, now_ms: int
) -> Readout:
    reply = await run_script(scripts, "read_fans", drop_id, [now_ms, *fan_ids])
    standings = []
    for fan_id, (state, seq, ahead, pass_id, expires) in zip(fan_ids, reply[2:], strict=True):
        standings.append(Standing(
            fan_id=fan_id, state=reply_text(state), seq=int(seq),
            ahead=None if int(ahead) < 0 else int(ahead),
            pass_id=reply_text(pass_id) or None, pass_expires_ms=int(expires) or None,
        ))
    return Readout(int(reply[0]), int(reply[1]), standings)

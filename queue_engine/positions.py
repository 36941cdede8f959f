"""Positions, states and estimated waits, computed from one snapshot of a drop's counters.

A waiting fan's `ahead` is the number of waiting fans with a lower sequence number.
Admission is strict FIFO among present fans, so every admission since a fan's
baseline was ahead of them, and a leaver was ahead iff its sequence number is
lower: `ahead_now = ahead_then - new_admissions - new_departures_below(seq)`.
That lets one `read_positions` call per drop per tick serve every socket.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.drop_phase import SELLOUT_FIELD, Sellout, phase_at, read_sellout
from core.scripts import ScriptRegistry, reply_text, run_script
from queue_engine.passes import RATE_WINDOW_MS

# Before this much admission history exists, the configured rate is the best guess.
MIN_OBSERVATION_MS = 10_000


@dataclass(frozen=True)
class DropStatus:
    drop_id: int
    read_at_ms: int
    meta: dict[str, str]
    line_length: int
    prequeue_size: int
    live_passes: int
    admitted_in_window: int
    departures: list[int] = field(default_factory=list)

    def _int(self, name: str, default: int = 0) -> int:
        raw = self.meta.get(name)
        return int(raw) if raw not in (None, "") else default

    @property
    def synced(self) -> bool:
        return self.meta.get("synced") == "1"

    @property
    def admitted_total(self) -> int:
        return self._int("admitted")

    @property
    def departed_total(self) -> int:
        return self._int("departed")

    @property
    def admit_per_minute(self) -> int:
        return self._int("admit_per_minute")

    @property
    def max_active(self) -> int:
        return self._int("max_active")

    @property
    def opened(self) -> bool:
        return self.meta.get("opened") == "1"

    @functools.cached_property
    def sellout(self) -> Sellout:
        """The purchase part's sell-out state, as its scripts keep it in meta."""
        return read_sellout(self.meta.get(SELLOUT_FIELD))

    @functools.cached_property  # a snapshot never changes; every fan message asks for it
    def phase(self) -> str:
        """scheduled | prequeue | open | paused | closed | sold_out | cancelled (core.drop_phase),
        or unknown before a sync. Open means the pre-queue has been shuffled in."""
        if not self.synced:
            return "unknown"
        return phase_at(
            state=self.meta.get("state", "scheduled"),
            prequeue_opens_at_ms=self._int("prequeue_opens_at_ms"),
            opens_at_ms=self._int("opens_at_ms"), closes_at_ms=self._int("closes_at_ms"),
            now_ms=self.read_at_ms, sellout=self.sellout, opened=self.opened,
        ).value

    @property
    def tickets_in_carts(self) -> bool:
        """Every seat is held or sold, but some holds may still expire and bring seats back:
        admission waits, fans keep their places."""
        return self.sellout == Sellout.HELD

    def admission_rate_per_minute(self) -> float | None:
        """Admissions per minute actually observed over the last minute; the configured rate
        while there is too little history; None when nobody has been admitted for a minute."""
        if not self.opened:
            return float(self.admit_per_minute) or None
        elapsed = self.read_at_ms - self._int("opened_at_ms", self.read_at_ms)
        if elapsed < MIN_OBSERVATION_MS:
            return float(self.admit_per_minute) or None
        window = min(RATE_WINDOW_MS, elapsed)
        if self.admitted_in_window == 0:
            return None if window >= RATE_WINDOW_MS else float(self.admit_per_minute) or None
        return self.admitted_in_window * 60_000 / window

    def observed_admissions_per_minute(self) -> float | None:
        """Admissions per minute actually seen over the last minute (or since opening),
        never the configured rate: 0 when nobody was admitted; None before opening."""
        if not self.opened:
            return None
        elapsed = self.read_at_ms - self._int("opened_at_ms", self.read_at_ms)
        window = max(1_000, min(RATE_WINDOW_MS, elapsed))  # a second at least: no spike at 0
        return self.admitted_in_window * 60_000 / window

    def estimated_wait_s(self, position: int | None) -> int | None:
        if position is None or self.phase != "open" or self.tickets_in_carts:
            return None
        rate = self.admission_rate_per_minute()
        if not rate:
            return None
        return math.ceil(position * 60 / rate)


FAN_STATES = ("prequeue", "waiting", "admitted", "expired", "closed", "sold_out")


def fan_state(phase: str, standing: str) -> str | None:
    """What a fan sees: the drop's closed/sold_out outrank their own standing (a cancelled
    drop is closed to its fans). None when the fan holds no place."""
    if phase in {"closed", "cancelled"}:
        return "closed"
    if phase == "sold_out":
        return phase
    return {"prequeue": "prequeue", "waiting": "waiting", "admitted": "admitted",
            "ended": "expired"}.get(standing)


def departures_below(sorted_seqs: Sequence[int], seq: int) -> int:
    return bisect_left(sorted_seqs, seq)


async def read_status(
    scripts: ScriptRegistry, drop_id: int, *, now_ms: int, departures_from: int = 0,
    max_departures: int = 0,
) -> DropStatus:
    """One atomic snapshot of the drop (and departures from an index, for position deltas)."""
    meta_flat, line, prequeue, live, in_window, departures = await run_script(
        scripts, "read_positions", drop_id,
        [now_ms, departures_from, max_departures, RATE_WINDOW_MS],
    )
    meta = {reply_text(meta_flat[i]): reply_text(meta_flat[i + 1])
            for i in range(0, len(meta_flat), 2)}
    return DropStatus(
        drop_id=drop_id, read_at_ms=now_ms, meta=meta, line_length=int(line),
        prequeue_size=int(prequeue), live_passes=int(live), admitted_in_window=int(in_window),
        departures=[int(seq) for seq in departures],
    )


def ahead_now(ahead_then: int, seq: int, new_admissions: int,
              new_departures_sorted: Sequence[int]) -> int:
    """A waiting fan's `ahead` after more admissions and departures (see module doc).
    Negative means the admissions reached the fan itself: it has been admitted."""
    return ahead_then - new_admissions - departures_below(new_departures_sorted, seq)

"""The phase of a drop as fans see it, and the purchase part's sell-out state: one rule each.

`phase_at` is the rule, over plain values, so every reader agrees: the catalogue and
purchase (from the ORM row, `drop_phase`), the waiting room (from its Redis meta,
queue_engine.positions). Lua scripts cannot call Python: lua/includes/drop_phase.lua is
the same rule, line for line, and lua/includes/sold_out.lua the only writer of the
sell-out state. A change here changes those two files in the same commit
(tests/core/test_drop_phase.py runs both against the same table).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.clock import to_ms


class ScheduledDrop(Protocol):
    """What the phase reads of a drop (the ORM row satisfies it). A protocol rather than
    the model, so the waiting room can use this module without importing SQLAlchemy."""

    @property
    def state(self) -> str: ...
    @property
    def prequeue_opens_at(self) -> datetime: ...
    @property
    def opens_at(self) -> datetime: ...
    @property
    def closes_at(self) -> datetime: ...


class DropPhase(StrEnum):
    SCHEDULED = "scheduled"  # before the pre-queue opens
    PREQUEUE = "prequeue"  # fans may wait; nobody is admitted yet
    OPEN = "open"  # admission runs
    PAUSED = "paused"  # operator paused admission; the line keeps its order
    CLOSED = "closed"  # past closes_at, or closed by the operator
    SOLD_OUT = "sold_out"
    CANCELLED = "cancelled"


class Sellout(StrEnum):
    """Whether anything is left to buy, kept by the inventory scripts in the drop's meta."""

    AVAILABLE = ""  # seats are left to hold
    HELD = "held"  # every seat is held or sold, but some holds may still expire
    SOLD = "sold"  # every seat is paid for: sold out for good (the queue refuses joins)


# The meta hash field, and how lua/includes/sold_out.lua spells each state in it.
SELLOUT_FIELD = "sold_out"
_STORED_SELLOUT = {"": Sellout.AVAILABLE, "held": Sellout.HELD, "1": Sellout.SOLD}

# Where a hold may be taken: a pause stops admission, not the fans already inside, and
# a sold-out drop may still get seats back from expiring carts (Redis stock decides).
SELLING_PHASES = frozenset({DropPhase.OPEN, DropPhase.PAUSED, DropPhase.SOLD_OUT})


def read_sellout(raw: str | bytes | None) -> Sellout:
    """The meta field as stored by the scripts; an unknown value reads as sold (the safe side)."""
    text = raw.decode() if isinstance(raw, bytes) else (raw or "")
    return _STORED_SELLOUT.get(text, Sellout.SOLD)


def phase_at(
    *, state: str, prequeue_opens_at_ms: int, opens_at_ms: int, closes_at_ms: int, now_ms: int,
    sellout: Sellout = Sellout.AVAILABLE, opened: bool | None = None,
) -> DropPhase:
    """The phase from the operator's `state`, the schedule and the clock.

    `opened` is whether the pre-queue has been shuffled into the line (the waiting room
    knows; it happens on the first tick or join after opens_at); None means "by the clock".
    The operator's final states outrank the clock, the clock's end outranks stock, and
    a pause only shows once the line is open (before that there is nothing to pause)."""
    if state == "cancelled":
        return DropPhase.CANCELLED
    if state == "closed" or now_ms >= closes_at_ms:
        return DropPhase.CLOSED
    if state == "sold_out" or sellout == Sellout.SOLD:
        return DropPhase.SOLD_OUT
    if now_ms < prequeue_opens_at_ms:
        return DropPhase.SCHEDULED
    if not (now_ms >= opens_at_ms if opened is None else opened):
        return DropPhase.PREQUEUE
    if state == "paused":
        return DropPhase.PAUSED
    return DropPhase.OPEN


def drop_phase(drop: ScheduledDrop, now: datetime) -> DropPhase:
    """The phase of a drop row (Postgres does not know the Redis sell-out state)."""
    return phase_at(
        state=drop.state, prequeue_opens_at_ms=to_ms(drop.prequeue_opens_at),
        opens_at_ms=to_ms(drop.opens_at), closes_at_ms=to_ms(drop.closes_at), now_ms=to_ms(now),
    )

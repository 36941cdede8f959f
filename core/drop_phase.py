"""The phase of a drop as fans see it: the operator's state combined with the clock."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from core.models import Drop


class DropPhase(StrEnum):
    SCHEDULED = "scheduled"  # before the pre-queue opens
    PREQUEUE = "prequeue"  # fans may wait; nobody is admitted yet
    OPEN = "open"  # admission runs
    PAUSED = "paused"  # operator paused admission; the line keeps its order
    CLOSED = "closed"  # past closes_at, or closed by the operator
    SOLD_OUT = "sold_out"
    CANCELLED = "cancelled"


OPERATOR_STATES = {
    "paused": DropPhase.PAUSED,
    "closed": DropPhase.CLOSED,
    "sold_out": DropPhase.SOLD_OUT,
    "cancelled": DropPhase.CANCELLED,
}


def drop_phase(drop: Drop, now: datetime) -> DropPhase:
    if drop.state in {"closed", "sold_out", "cancelled"}:
        return OPERATOR_STATES[drop.state]
    if now >= drop.closes_at:
        return DropPhase.CLOSED
    if now < drop.prequeue_opens_at:
        return DropPhase.SCHEDULED
    if now < drop.opens_at:
        return DropPhase.PREQUEUE
    if drop.state == "paused":
        return DropPhase.PAUSED
    return DropPhase.OPEN

"""Refusals of the waiting room, and the one table from Lua error codes to them."""

from __future__ import annotations

from core.errors import Conflict, DomainError, NotFound
from core.scripts import ScriptError


class QueueClosed(Conflict):
    """The drop no longer takes fans: closed by its venue, cancelled, or past closes_at."""


class SoldOut(Conflict):
    """Every ticket of the drop is sold or held."""


class NotOpenYet(Conflict):
    """The pre-queue has not opened yet."""


class NotInLine(NotFound):
    """The fan holds no place in this drop's line."""


class DropNotSynced(Exception):
    """The drop's configuration is not in Redis yet (load it from Postgres, then retry)."""


class OpenPending(Exception):
    """opens_at has passed but the pre-queue has not been shuffled in yet (open, then retry)."""


CLOSED_REASONS = {
    "closed": "this drop has been closed by its venue",
    "cancelled": "this drop has been cancelled",
    "ended": "this drop has ended",
}


def queue_error(error: ScriptError) -> Exception:
    """Map a script's `TQ:CODE:detail` refusal to the exception callers handle."""
    if error.code == "NOT_SYNCED":
        return DropNotSynced()
    if error.code == "OPEN_PENDING":
        return OpenPending()
    if error.code == "CLOSED":
        reason = error.detail or "closed"
        return QueueClosed(CLOSED_REASONS.get(reason, "this drop is closed"), reason=reason)
    if error.code == "SOLD_OUT":
        return SoldOut("this drop is sold out", reason="sold_out")
    if error.code == "NOT_OPEN":
        return NotOpenYet("the waiting room for this drop has not opened yet",
                          reason="not_open", prequeue_opens_at_ms=int(error.detail or 0))
    return error


__all__ = ["DomainError", "DropNotSynced", "NotInLine", "NotOpenYet", "OpenPending",
           "QueueClosed", "SoldOut", "queue_error"]

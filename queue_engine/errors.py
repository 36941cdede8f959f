"""Refusals of the waiting room. The table from Lua codes to them is core.script_errors
(one table for every script); the waiting room's own are re-exported here."""

from __future__ import annotations

from core.errors import NotFound
from core.script_errors import (
    CLOSED_REASONS,
    DropNotSynced,
    LotteryDrop,
    NotOpenYet,
    NotVisible,
    OpenPending,
    QueueClosed,
    SoldOut,
    VerifiedEmailRequired,
)


class NotInLine(NotFound):
    """The fan holds no place in this drop's line."""


__all__ = ["CLOSED_REASONS", "DropNotSynced", "LotteryDrop", "NotInLine", "NotOpenYet",
           "NotVisible", "OpenPending", "QueueClosed", "SoldOut", "VerifiedEmailRequired"]

"""Refusals of the waiting room. The table from Lua codes to them is core.script_errors
(one table for every script); the waiting room's own are re-exported here."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, Gone, Invalid, NotFound
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


class ChallengeRequired(Invalid):
    """A new place in this drop needs a solved proof-of-work challenge."""


class ChallengeInvalid(Invalid):
    """Not a challenge we issued, tampered with, or not solved."""


class ChallengeExpired(Gone):
    """A genuine challenge, past its expiry."""


class ChallengeForeign(Forbidden):
    """A genuine challenge, issued for another drop or another fan."""


class ChallengeReplayed(Conflict):
    """A genuine challenge that was already used to join."""


__all__ = ["CLOSED_REASONS", "ChallengeExpired", "ChallengeForeign", "ChallengeInvalid",
           "ChallengeReplayed", "ChallengeRequired", "DropNotSynced", "LotteryDrop", "NotInLine",
           "NotOpenYet", "NotVisible", "OpenPending", "QueueClosed", "SoldOut",
           "VerifiedEmailRequired"]

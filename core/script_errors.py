"""The one table from Lua refusal codes (`TQ:CODE[:detail]`) to the exceptions callers handle.

The scripts in lua/ belong to no single part (reserve_hold reads the queue's passes,
join_line the purchase part's sell-out state), so neither do their codes: each code is
mapped once, here, and the waiting room and the inventory gate re-export the exceptions
they raise (queue_engine.errors, purchase.inventory). `core.scripts.run_script` applies it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from core.errors import Busy, Conflict, Forbidden, Gone, NotFound

if TYPE_CHECKING:
    from core.scripts import ScriptError


# --- the waiting room ---------------------------------------------------------------
class QueueClosed(Conflict):
    """The drop no longer takes fans: closed by its venue, cancelled, or past closes_at."""


class NotOpenYet(Conflict):
    """The pre-queue has not opened yet."""


class NotVisible(NotFound):
    """Fans may not see this drop (its event is a draft): the same 404 as no drop at all."""


class LotteryDrop(Conflict):
    """A lottery drop has no line: fans enter the draw instead."""


class VerifiedEmailRequired(Forbidden):
    """The drop takes only accounts with a verified email (the gateway says which address)."""


class DropNotSynced(Exception):
    """The drop's configuration is not in Redis yet (load it, sync it, then retry)."""


class OpenPending(Exception):
    """opens_at has passed but the pre-queue has not been shuffled in yet (open, then retry)."""


# --- both: the drop (join_line) or one tier of a hold (reserve_hold) -----------------
class SoldOut(Conflict):
    """Nothing left: the whole drop (joins), or not enough seats in a tier (holds)."""


# --- the inventory gate ---------------------------------------------------------------
class OverLimit(Conflict):
    """The hold would take the fan past a tier's per-fan limit (holds and orders together)."""


class PassNotLive(Gone):
    """The admission pass was revoked, replaced, or its purchase session ended."""


class InventoryNotLoaded(Busy):
    """Redis has no stock for a tier yet (first use, or lost); load it from the ledger."""

    def __init__(self, tier_id: int) -> None:
        super().__init__("inventory is loading; try again in a moment", tier_id=tier_id)
        self.tier_id = tier_id


class HoldGone(Gone):
    """The hold was released, expired, or already used."""


class HoldExpired(Gone):
    """The hold is past its expiry (its seats are about to return to stock)."""


class HoldExists(Conflict):
    """A hold with this id exists already (a retried request)."""


CLOSED_REASONS = {
    "closed": "this drop has been closed by its venue",
    "cancelled": "this drop has been cancelled",
    "ended": "this drop has ended",
}


def _parts(error: ScriptError) -> list[str]:
    return error.detail.split(":") if error.detail else []


def _closed(error: ScriptError) -> Exception:
    reason = error.detail or "closed"
    return QueueClosed(CLOSED_REASONS.get(reason, "this drop is closed"), reason=reason)


def _not_open(error: ScriptError) -> Exception:
    return NotOpenYet("the waiting room for this drop has not opened yet", reason="not_open",
                      prequeue_opens_at_ms=int(error.detail or 0))


def _sold_out(error: ScriptError) -> Exception:
    parts = _parts(error)
    if len(parts) == 2:  # reserve_hold: TQ:SOLD_OUT:<tier>:<available>
        return SoldOut("sold out: not enough tickets left in this tier",
                       tier_id=int(parts[0]), available=int(parts[1]))
    return SoldOut("this drop is sold out", reason="sold_out")


def _over_limit(error: ScriptError) -> Exception:
    tier, already, limit = _parts(error)
    return OverLimit(f"at most {limit} tickets of this tier per fan",
                     tier_id=int(tier), already=int(already), limit=int(limit))


SCRIPT_ERRORS: dict[str, Callable[[ScriptError], Exception]] = {
    # waiting room (join_line, open_line, admit_batch)
    "NOT_SYNCED": lambda _: DropNotSynced(),
    "OPEN_PENDING": lambda _: OpenPending(),
    "NOT_VISIBLE": lambda _: NotVisible("no such drop"),
    "LOTTERY": lambda _: LotteryDrop(
        "this drop is a lottery: enter it instead of queueing", reason="lottery"),
    "UNVERIFIED": lambda _: VerifiedEmailRequired(
        "verify your email address to join this drop"),
    "CLOSED": _closed,
    "NOT_OPEN": _not_open,
    "SOLD_OUT": _sold_out,
    # inventory gate (reserve_hold, convert_hold)
    "PASS_REVOKED": lambda _: PassNotLive(
        "this admission pass is no longer valid; rejoin the queue"),
    "PASS_EXPIRED": lambda _: PassNotLive("your purchase session has ended; rejoin the queue"),
    "LIMIT": _over_limit,
    "NOT_LOADED": lambda e: InventoryNotLoaded(int(_parts(e)[0])),
    "HOLD_EXISTS": lambda _: HoldExists("this hold already exists"),
    "HOLD_EXPIRED": lambda _: HoldExpired("this hold has expired; its tickets went back on sale"),
    "HOLD_GONE": lambda _: HoldGone("this hold no longer exists"),
}


def refusal(error: ScriptError) -> Exception:
    """The exception for a script's refusal; the ScriptError itself for a code not in the
    table (a bug in a script, not bad input: it surfaces as one)."""
    factory = SCRIPT_ERRORS.get(error.code)
    return error if factory is None else factory(error)

"""A venue admin configures a lottery drop: when it draws, how many seats an entry may ask for.

The first configuration creates the seed (`secrets.token_bytes(32)`) and
publishes its commitment; later changes never touch either. Configuration is
frozen once the entry window has closed (the entry list is sealed).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import DropView, managed_drop, visible_drop
from catalog.authz import Actor
from core import audit
from core.errors import Conflict, Invalid
from lottery.draw import SEED_BYTES, commitment
from lottery.models import LotteryDrop, LotteryEntry

# Card authorisations last about 7 days; settlement must finish before they lapse,
# so the draw may be at most 6 days after the window opens (a day for settling).
AUTHORISATION_WINDOW = timedelta(days=6)
MAX_DRAW_DELAY = timedelta(days=60)


class NotALottery(Conflict):
    """The drop sells first come, first served."""


class LotteryNotConfigured(Conflict):
    """The venue has not set the draw up yet."""


@dataclass(frozen=True)
class LotterySettings:
    draw_at: datetime
    max_quantity_per_entry: int
    public_randomness: str | None = None
    # Opt-in for draws beyond the authorisation window: charge on entry, refund losers.
    allow_capture_now: bool = False


@dataclass(frozen=True)
class ConfigResult:
    lottery: LotteryDrop
    capture_note: str


CAPTURE_NOTES = {
    "authorise": ("entries hold funds (a card authorisation); winners are charged, losers' "
                  "holds are cancelled for free"),
    "capture_now": ("draw_at is more than 6 days after the window opens, after card "
                    "authorisations would lapse: entrants are charged on entry and losers are "
                    "refunded after the draw"),
}


def capture_mode_for(view: DropView, wanted: LotterySettings) -> str:
    """'authorise' when the draw comes before holds lapse, else 'capture_now' if allowed."""
    if wanted.draw_at - view.drop.opens_at <= AUTHORISATION_WINDOW:
        return "authorise"
    if not wanted.allow_capture_now:
        raise Invalid(
            "draw_at is more than 6 days after the entry window opens, when card "
            "authorisations lapse: move draw_at earlier, or send allow_capture_now: true "
            "to charge entrants on entry and refund the losers after the draw")
    return "capture_now"


def _check(view: DropView, wanted: LotterySettings) -> None:
    if view.drop.mode != "lottery":
        raise NotALottery("this drop is not a lottery drop (mode is 'direct')")
    if wanted.draw_at.tzinfo is None:
        raise Invalid("draw_at needs a timezone offset, e.g. 2026-12-01T20:00:00Z")
    if wanted.draw_at < view.drop.closes_at:
        raise Invalid("draw_at must not be before the entry window closes (closes_at)")
    if wanted.draw_at - view.drop.closes_at > MAX_DRAW_DELAY:
        raise Invalid("draw_at may be at most 60 days after the entry window closes")
    if wanted.max_quantity_per_entry < 1:
        raise Invalid("max_quantity_per_entry must be at least 1")


async def configure_lottery(
    session: AsyncSession, actor: Actor, drop_id: int, wanted: LotterySettings, *, now: datetime
) -> ConfigResult:
    view = await managed_drop(session, actor, drop_id)
    _check(view, wanted)
    capture_mode = capture_mode_for(view, wanted)
    lottery = await session.get(LotteryDrop, drop_id, with_for_update=True)
    if lottery is None:
        seed = secrets.token_bytes(SEED_BYTES)
        lottery = LotteryDrop(drop_id=drop_id, seed=seed, commitment=commitment(seed), state="open")
        session.add(lottery)
    elif lottery.state != "open":
        raise Conflict("the entry window has closed: the lottery's settings are frozen")
    else:
        entries = await session.scalar(
            select(func.count()).select_from(LotteryEntry).where(
                LotteryEntry.drop_id == drop_id, LotteryEntry.status != "abandoned"))
        changes_terms = (capture_mode != lottery.capture_mode
                         or wanted.max_quantity_per_entry != lottery.max_quantity_per_entry)
        if entries and changes_terms:
            raise Conflict("fans have entered already: max_quantity_per_entry and the capture "
                           "mode can no longer change (draw_at and public_randomness can)")
    if now >= view.drop.closes_at:
        raise Conflict("the entry window has closed: the lottery's settings are frozen")
    lottery.draw_at = wanted.draw_at
    lottery.max_quantity_per_entry = wanted.max_quantity_per_entry
    lottery.capture_mode = capture_mode
    lottery.public_randomness = wanted.public_randomness or None
    audit.record(session, actor_user_id=actor.id, action="lottery.configure", subject_type="drop",
                 subject_id=drop_id, details={
                     "draw_at": wanted.draw_at.isoformat(), "capture_mode": capture_mode,
                     "max_quantity_per_entry": wanted.max_quantity_per_entry,
                     "public_randomness": lottery.public_randomness})
    await session.commit()
    return ConfigResult(lottery=lottery, capture_note=CAPTURE_NOTES[capture_mode])


async def lottery_for_view(session: AsyncSession, view: DropView) -> LotteryDrop:
    if view.drop.mode != "lottery":
        raise NotALottery("this drop is not a lottery drop")
    lottery = await session.get(LotteryDrop, view.drop.id)
    if lottery is None:
        raise LotteryNotConfigured("this lottery is not set up yet; check back soon")
    return lottery


async def visible_lottery(
    session: AsyncSession, viewer: Actor | None, drop_id: int
) -> tuple[DropView, LotteryDrop]:
    view = await visible_drop(session, viewer, drop_id)
    return view, await lottery_for_view(session, view)


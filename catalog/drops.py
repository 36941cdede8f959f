"""Drops: the sale of an event's tiers, on a schedule, FIFO through the line or by lottery.

Services own their transactions: each public function commits or raises a
DomainError having written nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor, require_venue_admin
from catalog.changes import commit_with_audit
from catalog.events import event_tiers, managed_event, visible_event
from catalog.venues import get_venue
from core.errors import Invalid, NotFound
from core.models import Drop, Event, TicketTier, Venue

# A card authorisation lapses after about 7 days; lottery drops must draw before.
MAX_SESSION_SECONDS = 3600
# The proof-of-work at join (queue_engine/challenges.py): on average a fan tries half
# the difficulty in SHA-256 hashes. 10,000 is ~0.1 s in a desktop browser, well under
# 0.5 s on a phone, ~50 ms in Python; a bot farm pays it per place. The maximum keeps a
# slow phone within a few seconds. Docs: docs/security.md, "Joining a drop".
DEFAULT_CHALLENGE_DIFFICULTY = 10_000
MAX_CHALLENGE_DIFFICULTY = 1_000_000
MAX_JOIN_LIMIT = 10_000_000


@dataclass(frozen=True)
class DropSchedule:
    mode: str
    prequeue_opens_at: datetime
    opens_at: datetime
    closes_at: datetime
    admit_per_minute: int
    max_active: int
    session_seconds: int
    hold_seconds: int = 600
    requires_verified_email: bool = False
    challenge_difficulty: int = DEFAULT_CHALLENGE_DIFFICULTY
    join_limit_per_ip: int | None = None  # None: the platform's setting; 0: no limit
    join_limit_per_network: int | None = None

    def problems(self) -> list[str]:
        found = []
        if self.mode not in {"direct", "lottery"}:
            found.append("mode must be 'direct' or 'lottery'")
        moments = {
            "prequeue_opens_at": self.prequeue_opens_at,
            "opens_at": self.opens_at,
            "closes_at": self.closes_at,
        }
        found += [
            f"{name} needs a timezone offset" for name, m in moments.items() if m.tzinfo is None
        ]
        if found:
            return found
        if self.prequeue_opens_at > self.opens_at:
            found.append("prequeue_opens_at must not be after opens_at")
        if self.closes_at <= self.opens_at:
            found.append("closes_at must be after opens_at")
        if self.admit_per_minute < 1:
            found.append("admit_per_minute must be at least 1")
        if self.max_active < 1:
            found.append("max_active must be at least 1")
        if not 30 <= self.session_seconds <= MAX_SESSION_SECONDS:
            found.append(f"session_seconds must be between 30 and {MAX_SESSION_SECONDS}")
        if not 60 <= self.hold_seconds <= 3600:
            found.append("hold_seconds must be between 60 and 3600")
        if not 0 <= self.challenge_difficulty <= MAX_CHALLENGE_DIFFICULTY:
            found.append(f"challenge_difficulty must be between 0 and {MAX_CHALLENGE_DIFFICULTY}")
        for name in ("join_limit_per_ip", "join_limit_per_network"):
            limit = getattr(self, name)
            if limit is not None and not 0 <= limit <= MAX_JOIN_LIMIT:
                found.append(f"{name} must be between 0 and {MAX_JOIN_LIMIT}, or null")
        if self.closes_at - self.opens_at > timedelta(days=60):
            found.append("a drop may stay open for at most 60 days")
        return found


async def create_drop(
    session: AsyncSession, actor: Actor, *, event_id: int, schedule: DropSchedule
) -> Drop:
    event = await managed_event(session, actor, event_id)
    drop = new_drop(event.id, schedule)
    session.add(drop)
    await session.flush()
    await commit_with_audit(
        session, actor, "drop.create", ("drop", drop.id), event_id=event.id, mode=schedule.mode
    )
    return drop


def new_drop(event_id: int, schedule: DropSchedule) -> Drop:
    """A drop row, checked, not yet added: create_drop's rules, shared with seeding."""
    problems = schedule.problems()
    if problems:
        raise Invalid("; ".join(problems))
    return Drop(
        event_id=event_id,
        mode=schedule.mode,
        prequeue_opens_at=schedule.prequeue_opens_at,
        opens_at=schedule.opens_at,
        closes_at=schedule.closes_at,
        admit_per_minute=schedule.admit_per_minute,
        max_active=schedule.max_active,
        session_seconds=schedule.session_seconds,
        hold_seconds=schedule.hold_seconds,
        requires_verified_email=schedule.requires_verified_email,
        challenge_difficulty=schedule.challenge_difficulty,
        join_limit_per_ip=schedule.join_limit_per_ip,
        join_limit_per_network=schedule.join_limit_per_network,
        state="scheduled",
    )


@dataclass(frozen=True)
class DropView:
    drop: Drop
    event: Event
    venue: Venue
    tiers: list[TicketTier]


async def visible_drop(session: AsyncSession, viewer: Actor | None, drop_id: int) -> DropView:
    """A drop with its event, venue and tiers: public once the event is published."""
    drop = await session.get(Drop, drop_id)
    if drop is None:
        raise NotFound("no such drop")
    try:
        event = await visible_event(session, viewer, drop.event_id)
    except NotFound as exc:
        raise NotFound("no such drop") from exc
    venue = await get_venue(session, event.venue_id)
    return DropView(drop=drop, event=event, venue=venue, tiers=await event_tiers(session, event.id))


async def managed_drop(session: AsyncSession, actor: Actor, drop_id: int) -> DropView:
    view = await visible_drop(session, actor, drop_id)
    await require_venue_admin(session, actor, view.event.venue_id)
    return view


def drop_changes(drop: Drop) -> dict[str, Any]:
    return {
        "admit_per_minute": drop.admit_per_minute,
        "max_active": drop.max_active,
        "state": drop.state,
    }

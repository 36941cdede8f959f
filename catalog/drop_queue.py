"""The catalogue's side of a drop's waiting room: the config the queue is given, which
drops the admission worker must tick, and the operator's controls (state and pace,
each committed with its audit row).

Plain values only: the catalogue does not know the waiting room (they are siblings);
bootstrap.queue_configs maps these onto queue_engine.DropConfig and syncs Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor
from catalog.changes import commit_with_audit
from catalog.drops import managed_drop
from core.errors import Conflict, NotFound
from core.models import Drop, Event

# Passes issued just before closes_at still need expiring, so a drop keeps being
# ticked a little after it closes.
TICK_AFTER_CLOSE = timedelta(hours=2)
# Start ticking a drop a little before its pre-queue opens (meta ready for the first join).
TICK_BEFORE_PREQUEUE = timedelta(minutes=1)

# Operator state after each action, and the states it may start from.
TRANSITIONS: dict[str, tuple[str, set[str]]] = {
    "pause": ("paused", {"scheduled", "paused"}),
    "resume": ("scheduled", {"scheduled", "paused"}),
    "close": ("closed", {"scheduled", "paused", "sold_out", "closed"}),
}


@dataclass(frozen=True)
class QueueSettings:
    """What the waiting room needs to know about one drop."""

    drop_id: int
    mode: str  # direct | lottery
    state: str  # the operator's
    prequeue_opens_at: datetime
    opens_at: datetime
    closes_at: datetime
    admit_per_minute: int
    max_active: int
    session_seconds: int
    visible: bool  # fans may see it: its event is not a draft
    requires_verified_email: bool = False
    challenge_difficulty: int = 0
    join_limit_per_ip: int | None = None
    join_limit_per_network: int | None = None

    @classmethod
    def of(cls, drop: Drop, event_status: str) -> QueueSettings:
        return cls(
            drop_id=drop.id, mode=drop.mode, state=drop.state,
            prequeue_opens_at=drop.prequeue_opens_at, opens_at=drop.opens_at,
            closes_at=drop.closes_at, admit_per_minute=drop.admit_per_minute,
            max_active=drop.max_active, session_seconds=drop.session_seconds,
            # The same rule as catalog.visible_event for a viewer who manages nothing.
            visible=event_status != "draft",
            requires_verified_email=drop.requires_verified_email,
            challenge_difficulty=drop.challenge_difficulty,
            join_limit_per_ip=drop.join_limit_per_ip,
            join_limit_per_network=drop.join_limit_per_network,
        )


async def queue_settings(session: AsyncSession, drop_id: int) -> QueueSettings:
    """Any drop, visible or not (the waiting room refuses fans a draft's drop itself, so
    its invisibility is cached in Redis too); NotFound only when there is no such drop."""
    row = (await session.execute(
        select(Drop, Event.status).join(Event, Event.id == Drop.event_id).where(Drop.id == drop_id)
    )).one_or_none()
    if row is None:
        raise NotFound("no such drop")
    return QueueSettings.of(row[0], row[1])


async def event_queue_settings(session: AsyncSession, event_id: int) -> list[QueueSettings]:
    """Every drop of one event (to re-sync them when the event is published)."""
    rows = await session.execute(
        select(Drop, Event.status).join(Event, Event.id == Drop.event_id)
        .where(Drop.event_id == event_id).order_by(Drop.id)
    )
    return [QueueSettings.of(drop, status) for drop, status in rows]


async def live_direct_drops(session: AsyncSession, now: datetime) -> list[QueueSettings]:
    """Direct drops the admission worker must tick: from just before the pre-queue opens
    until a while after they close (states other than cancelled). Drafts included: their
    synced meta is what tells the waiting room to refuse fans."""
    rows = await session.execute(
        select(Drop, Event.status).join(Event, Event.id == Drop.event_id).where(
            Drop.state != "cancelled",
            Drop.mode == "direct",
            Drop.prequeue_opens_at <= now + TICK_BEFORE_PREQUEUE,
            Drop.closes_at > now - TICK_AFTER_CLOSE,
        ).order_by(Drop.id)
    )
    return [QueueSettings.of(drop, status) for drop, status in rows]


async def change_queue_state(
    session: AsyncSession, actor: Actor, drop_id: int, action: str
) -> Drop:
    """pause | resume | close (venue admins). Repeating an action is harmless: no second
    audit row. The caller mirrors the result into Redis (bootstrap.queue_configs)."""
    drop = (await managed_drop(session, actor, drop_id)).drop
    target, allowed = TRANSITIONS[action]
    if drop.state not in allowed:
        raise Conflict(f"cannot {action} a drop that is {drop.state}", state=drop.state)
    if drop.state == target:
        return drop
    before = drop.state
    drop.state = target
    await commit_with_audit(session, actor, f"drop.{action}", ("drop", drop.id),
                            **{"from": before, "to": target})
    return drop


async def change_queue_pacing(
    session: AsyncSession, actor: Actor, drop_id: int, *,
    admit_per_minute: int | None = None, max_active: int | None = None,
    requires_verified_email: bool | None = None,
) -> Drop:
    drop = (await managed_drop(session, actor, drop_id)).drop
    if drop.state == "cancelled":
        raise Conflict("this drop has been cancelled", state=drop.state)
    changes: dict[str, Any] = {}
    if admit_per_minute is not None and admit_per_minute != drop.admit_per_minute:
        changes["admit_per_minute"] = {"from": drop.admit_per_minute, "to": admit_per_minute}
        drop.admit_per_minute = admit_per_minute
    if max_active is not None and max_active != drop.max_active:
        changes["max_active"] = {"from": drop.max_active, "to": max_active}
        drop.max_active = max_active
    if (requires_verified_email is not None
            and requires_verified_email != drop.requires_verified_email):
        changes["requires_verified_email"] = {"from": drop.requires_verified_email,
                                              "to": requires_verified_email}
        drop.requires_verified_email = requires_verified_email
    if changes:
        await commit_with_audit(session, actor, "drop.pacing", ("drop", drop.id), **changes)
    return drop


async def record_pass_revoked(
    session: AsyncSession, actor: Actor, drop_id: int, fan_id: int
) -> None:
    await commit_with_audit(session, actor, "drop.revoke_pass", ("drop", drop_id), fan_id=fan_id)

"""Operator controls of a drop's waiting room: pause, resume, close, change the pace.

Only the venue's admins (catalog.managed_drop). Each change is written to
Postgres with an audit row in one transaction, then mirrored into Redis meta so
it takes effect on the next admission tick.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from catalog import managed_drop
from catalog.authz import Actor
from core import audit
from core.errors import Conflict
from core.models import Drop
from core.redis_client import RedisClient
from core.scripts import ScriptRegistry
from queue_engine.drop_config import DropConfig, sync_config
from queue_engine.passes import revoke_pass

# Operator state after each action, and the states it may start from.
TRANSITIONS: dict[str, tuple[str, set[str]]] = {
    "pause": ("paused", {"scheduled", "paused"}),
    "resume": ("scheduled", {"scheduled", "paused"}),
    "close": ("closed", {"scheduled", "paused", "sold_out", "closed"}),
}


async def _commit_and_sync(
    session: AsyncSession, redis: RedisClient, actor: Actor, drop: Drop, action: str,
    details: dict[str, Any],
) -> Drop:
    audit.record(session, actor_user_id=actor.id, action=f"drop.{action}", subject_type="drop",
                 subject_id=drop.id, details=details)
    await session.commit()
    await sync_config(redis, DropConfig.from_drop(drop))
    return drop


async def change_state(
    session: AsyncSession, redis: RedisClient, actor: Actor, drop_id: int, action: str
) -> Drop:
    """pause | resume | close. Repeating an action is harmless (no second audit row)."""
    view = await managed_drop(session, actor, drop_id)
    drop = view.drop
    target, allowed = TRANSITIONS[action]
    if drop.state not in allowed:
        raise Conflict(f"cannot {action} a drop that is {drop.state}", state=drop.state)
    if drop.state == target:
        await sync_config(redis, DropConfig.from_drop(drop))
        return drop
    before = drop.state
    drop.state = target
    return await _commit_and_sync(session, redis, actor, drop, action,
                                  {"from": before, "to": target})


async def change_pacing(
    session: AsyncSession, redis: RedisClient, actor: Actor, drop_id: int, *,
    admit_per_minute: int | None = None, max_active: int | None = None,
) -> Drop:
    view = await managed_drop(session, actor, drop_id)
    drop = view.drop
    if drop.state == "cancelled":
        raise Conflict("this drop has been cancelled", state=drop.state)
    changes: dict[str, Any] = {}
    if admit_per_minute is not None and admit_per_minute != drop.admit_per_minute:
        changes["admit_per_minute"] = {"from": drop.admit_per_minute, "to": admit_per_minute}
        drop.admit_per_minute = admit_per_minute
    if max_active is not None and max_active != drop.max_active:
        changes["max_active"] = {"from": drop.max_active, "to": max_active}
        drop.max_active = max_active
    if not changes:
        return drop
    return await _commit_and_sync(session, redis, actor, drop, "pacing", changes)


async def revoke_fan_pass(
    session: AsyncSession, scripts: ScriptRegistry, actor: Actor, drop_id: int, fan_id: int,
    *, now_ms: int,
) -> bool:
    """Withdraw a fan's admission pass (e.g. a shared link): it stops working at once."""
    await managed_drop(session, actor, drop_id)
    revoked = await revoke_pass(scripts, drop_id, fan_id, now_ms=now_ms)
    if revoked:
        audit.record(session, actor_user_id=actor.id, action="drop.revoke_pass",
                     subject_type="drop", subject_id=drop_id, details={"fan_id": fan_id})
        await session.commit()
    return revoked

"""The operator's controls of a drop's waiting room: the change is committed in Postgres
with its audit row (catalog.drop_queue), then mirrored into Redis (queue_engine) so it
takes effect on the next admission tick. Venue admins only (catalog.managed_drop)."""

from __future__ import annotations

from bootstrap.queue_configs import Sessionmaker, sync_drop
from catalog import managed_drop
from catalog.authz import Actor
from catalog.drop_queue import change_queue_pacing, change_queue_state, record_pass_revoked
from core.models import Drop
from core.redis_client import RedisClient
from core.scripts import ScriptRegistry
from queue_engine.passes import revoke_pass


async def change_state(
    redis: RedisClient, sessionmaker: Sessionmaker, actor: Actor, drop_id: int, action: str
) -> Drop:
    """pause | resume | close. Repeating an action is harmless (no second audit row); the
    meta is synced every time, so a retry also repairs a sync a crash cut short."""
    async with sessionmaker() as session:
        drop = await change_queue_state(session, actor, drop_id, action)
    await sync_drop(redis, sessionmaker, drop_id)
    return drop


async def change_pacing(
    redis: RedisClient, sessionmaker: Sessionmaker, actor: Actor, drop_id: int, *,
    admit_per_minute: int | None = None, max_active: int | None = None,
    requires_verified_email: bool | None = None,
) -> Drop:
    async with sessionmaker() as session:
        drop = await change_queue_pacing(session, actor, drop_id,
                                         admit_per_minute=admit_per_minute, max_active=max_active,
                                         requires_verified_email=requires_verified_email)
    await sync_drop(redis, sessionmaker, drop_id)
    return drop


async def revoke_fan_pass(
    scripts: ScriptRegistry, sessionmaker: Sessionmaker, actor: Actor, drop_id: int,
    fan_id: int, *, now_ms: int,
) -> bool:
    """Withdraw a fan's admission pass (e.g. a shared link): it stops working at once."""
    async with sessionmaker() as session:
        await managed_drop(session, actor, drop_id)
        revoked = await revoke_pass(scripts, drop_id, fan_id, now_ms=now_ms)
        if revoked:
            await record_pass_revoked(session, actor, drop_id, fan_id)
    return revoked

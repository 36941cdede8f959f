"""A drop's pacing configuration: read from Postgres (the source of truth), mirrored into
the drop's Redis meta hash where the scripts read it.

This is the waiting room's one bridge to Postgres; the line itself is Redis only.
The worker re-syncs every tick and the gateway syncs lazily on a drop's first join,
so an operator's change takes effect on the next tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import visible_drop
from core.clock import to_ms
from core.errors import Conflict
from core.models import Drop
from core.redis_client import RedisClient
from core.redis_keys import DropKeys

# Passes issued just before closes_at still need expiring, so a drop keeps being
# ticked a little after it closes.
TICK_AFTER_CLOSE = timedelta(hours=2)
# Start ticking a drop a little before its pre-queue opens (meta ready for the first join).
TICK_BEFORE_PREQUEUE = timedelta(minutes=1)


@dataclass(frozen=True)
class DropConfig:
    drop_id: int
    prequeue_opens_at_ms: int
    opens_at_ms: int
    closes_at_ms: int
    admit_per_minute: int
    max_active: int
    session_seconds: int
    state: str  # scheduled | paused | closed | sold_out | cancelled (the operator's)

    @classmethod
    def from_drop(cls, drop: Drop) -> DropConfig:
        return cls(
            drop_id=drop.id, prequeue_opens_at_ms=to_ms(drop.prequeue_opens_at),
            opens_at_ms=to_ms(drop.opens_at), closes_at_ms=to_ms(drop.closes_at),
            admit_per_minute=drop.admit_per_minute, max_active=drop.max_active,
            session_seconds=drop.session_seconds, state=drop.state,
        )

    def meta_fields(self) -> dict[str, str | int]:
        # Only configuration: counters, `opened` and the purchase part's `sold_out`
        # belong to the scripts and are never overwritten by a sync.
        return {
            "synced": 1, "prequeue_opens_at_ms": self.prequeue_opens_at_ms,
            "opens_at_ms": self.opens_at_ms, "closes_at_ms": self.closes_at_ms,
            "admit_per_minute": self.admit_per_minute, "max_active": self.max_active,
            "session_ms": self.session_seconds * 1000, "state": self.state,
        }


async def sync_config(redis: RedisClient, config: DropConfig) -> None:
    await redis.hset(DropKeys(config.drop_id).meta, mapping=config.meta_fields())  # type: ignore[arg-type]


async def load_config(sessionmaker: async_sessionmaker[AsyncSession], drop_id: int) -> DropConfig:
    """The config of a drop fans may see (published event); NotFound otherwise, and
    Conflict for lottery drops (fans enter those; there is no line)."""
    async with sessionmaker() as session:
        view = await visible_drop(session, None, drop_id)
    if view.drop.mode != "direct":
        raise Conflict("this drop is a lottery: enter it instead of queueing", reason="lottery")
    return DropConfig.from_drop(view.drop)


async def live_drop_configs(session: AsyncSession, now: datetime) -> list[DropConfig]:
    """Direct drops the admission worker must tick: from just before the pre-queue opens
    until a while after they close (states other than cancelled)."""
    rows = await session.scalars(
        select(Drop).where(
            Drop.state != "cancelled",
            Drop.mode == "direct",
            Drop.prequeue_opens_at <= now + TICK_BEFORE_PREQUEUE,
            Drop.closes_at > now - TICK_AFTER_CLOSE,
        ).order_by(Drop.id)
    )
    return [DropConfig.from_drop(drop) for drop in rows]

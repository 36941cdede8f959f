"""A drop's pacing configuration, as the waiting room is given it, mirrored into the drop's
Redis meta hash where the scripts read it.

The waiting room never reads Postgres: its callers load the config (bootstrap.queue_configs
maps a drop's Postgres row onto DropConfig) and hand it over. The worker re-syncs every
live drop each tick, the gateway syncs a drop on its first join and whenever an operator
or a publish changes it, so a change takes effect on the next tick at the latest.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.redis_client import RedisClient
from core.redis_keys import DropKeys


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
    # Fans may see the drop (its event is published). join_line checks it on every join,
    # so a draft's meta in Redis is as closed to fans as no meta at all.
    visible: bool
    mode: str = "direct"  # direct | lottery (a lottery drop has no line; joins are refused)
    # Bot guards the gateway applies before a new place (not synced: the scripts never
    # read them). Difficulty 0: no challenge; a limit None: the platform's, 0: none.
    challenge_difficulty: int = 0
    join_limit_per_ip: int | None = None
    join_limit_per_network: int | None = None

    def meta_fields(self) -> dict[str, str | int]:
        # Only configuration: counters, `opened` and the purchase part's `sold_out`
        # belong to the scripts and are never overwritten by a sync.
        return {
            "synced": 1, "prequeue_opens_at_ms": self.prequeue_opens_at_ms,
            "opens_at_ms": self.opens_at_ms, "closes_at_ms": self.closes_at_ms,
            "admit_per_minute": self.admit_per_minute, "max_active": self.max_active,
            "session_ms": self.session_seconds * 1000, "state": self.state,
            "visible": 1 if self.visible else 0, "mode": self.mode,
        }


async def sync_config(redis: RedisClient, config: DropConfig) -> None:
    await redis.hset(DropKeys(config.drop_id).meta, mapping=config.meta_fields())  # type: ignore[arg-type]

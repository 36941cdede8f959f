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
    # Only fans whose account has a verified email may join; join_line refuses the others
    # until the caller (which may read the account) vouches for the fan.
    verified_only: bool = False
    # Bot guards the gateway applies before a new place (gateway/join_guard.py reads them
    # from the meta; the scripts never do). Difficulty 0: no challenge; a limit None: the
    # platform's (synced as -1), 0: none.
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
            "verified_only": 1 if self.verified_only else 0,
            "challenge_difficulty": self.challenge_difficulty,
            "join_limit_per_ip": _limit_field(self.join_limit_per_ip),
            "join_limit_per_network": _limit_field(self.join_limit_per_network),
        }


def _limit_field(limit: int | None) -> int:
    return PLATFORM_LIMIT if limit is None else limit


def _int(field: bytes | str | None, default: int) -> int:
    return default if not field else int(field)


def _limit_of(field: bytes | str | None) -> int | None:
    value = _int(field, PLATFORM_LIMIT)
    return None if value == PLATFORM_LIMIT else value


PLATFORM_LIMIT = -1  # in the meta: "the platform's setting" (None in DropConfig)
GUARD_FIELDS = ("synced", "visible", "challenge_difficulty", "join_limit_per_ip",
                "join_limit_per_network", "verified_only")


@dataclass(frozen=True)
class JoinGuards:
    """A drop's bot guards as its synced meta holds them."""

    visible: bool
    challenge_difficulty: int
    join_limit_per_ip: int | None
    join_limit_per_network: int | None
    # Only accounts with a verified email may join: checked before a guard spends anything.
    verified_only: bool = False


async def read_guards(redis: RedisClient, drop_id: int) -> JoinGuards | None:
    """The guards from the drop's meta; None while the drop is not synced."""
    synced, visible, difficulty, per_ip, per_network, verified = await redis.hmget(  # type: ignore[misc]
        DropKeys(drop_id).meta, list(GUARD_FIELDS))
    if synced is None:
        return None
    return JoinGuards(visible=_int(visible, 0) == 1,
                      challenge_difficulty=_int(difficulty, 0),
                      join_limit_per_ip=_limit_of(per_ip),
                      join_limit_per_network=_limit_of(per_network),
                      verified_only=_int(verified, 0) == 1)


async def sync_config(redis: RedisClient, config: DropConfig) -> None:
    await redis.hset(DropKeys(config.drop_id).meta, mapping=config.meta_fields())  # type: ignore[arg-type]

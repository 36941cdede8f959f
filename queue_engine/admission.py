"""One admission tick of one drop: sync config, open, expire, drop the absent, admit."""

from __future__ import annotations

from dataclasses import dataclass

from core.redis_client import RedisClient
from core.scripts import ScriptRegistry
from queue_engine.drop_config import DropConfig, sync_config
from queue_engine.line import drop_stale, open_line
from queue_engine.passes import AdmitResult, admit_batch, expire_passes


@dataclass(frozen=True)
class TickResult:
    opened_now: bool
    expired: int
    dropped: int
    admit: AdmitResult


async def tick_drop(
    redis: RedisClient, scripts: ScriptRegistry, config: DropConfig, *, now_ms: int,
    grace_ms: int, seed: str | None = None, takeover_ms: int = 0,
) -> TickResult:
    """Everything pacing needs, in order. Each step is one atomic script and safe to
    repeat, so a worker that dies mid-tick leaves nothing half done."""
    await sync_config(redis, config)
    opened_now = False
    if now_ms >= config.opens_at_ms:
        opened_now, _ = await open_line(scripts, config.drop_id, now_ms=now_ms, seed=seed)
    expired = await expire_passes(scripts, config.drop_id, now_ms=now_ms)
    # Fans silent for longer than the grace period lose their place: one bounded step of the
    # sweep round the whole line per tick (so they stop counting as "ahead"), and admission
    # checks the head itself, so the head admitted is always someone present.
    stale_before_ms = now_ms - grace_ms
    removed = await drop_stale(scripts, config.drop_id, now_ms=now_ms,
                               stale_before_ms=stale_before_ms)
    admit = await admit_batch(scripts, config.drop_id, now_ms=now_ms,
                              stale_before_ms=stale_before_ms, takeover_ms=takeover_ms)
    return TickResult(opened_now, expired, removed.from_line + removed.from_prequeue, admit)

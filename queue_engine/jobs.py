"""`queue_engine.jobs:admission_loop`, run by `ticketq worker`: paces every live drop.

Each tick the worker lists live drops in Postgres and, for each drop whose lease it
holds (or can take), runs one admission tick. Leases expire after `lease_ttl_ms`
(TICKETQ_LEASE_TTL_MS), so when a worker dies another takes its drops over within
that time; two or more workers are safe because every step is one atomic script.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import to_ms
from core.redis_client import RedisClient
from core.scripts import ScriptRegistry
from core.settings import Settings
from queue_engine.admission import tick_drop
from queue_engine.drop_config import live_drop_configs
from queue_engine.lease import release_lease, take_lease

log = logging.getLogger("ticketq.queue.admission")


@dataclass(frozen=True)
class AdmissionContext:
    settings: Settings
    redis: RedisClient
    scripts: ScriptRegistry
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime]
    worker_id: str  # names this process in leases


async def admission_tick(ctx: AdmissionContext, held: set[int]) -> None:
    now = ctx.clock()
    async with ctx.sessionmaker() as session:
        configs = await live_drop_configs(session, now)
    settings = ctx.settings
    for config in configs:
        if not await take_lease(ctx.scripts, config.drop_id, ctx.worker_id,
                                ttl_ms=settings.lease_ttl_ms):
            held.discard(config.drop_id)
            continue
        if config.drop_id not in held:
            log.info("worker %s now paces drop %s", ctx.worker_id, config.drop_id)
            held.add(config.drop_id)
        # Time is read per drop: a slow drop must not make the next one's pacing stale.
        result = await tick_drop(ctx.redis, ctx.scripts, config, now_ms=to_ms(ctx.clock()),
                                 grace_ms=settings.queue_grace_seconds * 1000)
        if result.opened_now:
            log.info("drop %s opened: pre-queue shuffled into the line", config.drop_id)


async def admission_loop(ctx: AdmissionContext) -> None:
    """Tick every `admission_tick_ms` until cancelled; release leases on the way out."""
    interval = ctx.settings.admission_tick_ms / 1000
    held: set[int] = set()
    loop = asyncio.get_running_loop()
    try:
        while True:
            started = loop.time()
            try:
                await admission_tick(ctx, held)
            except Exception:
                # One bad tick (a Redis blip, a DB restart) must not stop admissions.
                log.exception("admission tick failed")
            await asyncio.sleep(max(0.0, interval - (loop.time() - started)))
    finally:
        for drop_id in held:
            with contextlib.suppress(Exception):
                await release_lease(ctx.scripts, drop_id, ctx.worker_id)

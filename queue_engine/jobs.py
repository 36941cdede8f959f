"""`admission_loop`, run by `ticketq worker`: paces every live drop.

Each tick the loop asks `live_configs(now)` for the drops to pace (the worker wires in
bootstrap.queue_configs.live_configs, which reads Postgres) and, for each drop
whose lease it holds (or can take), syncs its config and runs one admission tick.
Leases expire after `lease_ttl_ms` (TICKETQ_LEASE_TTL_MS), so when a worker dies another
takes its drops over within that time; two or more workers are safe because every step
is one atomic script.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from core.clock import to_ms
from core.redis_client import RedisClient
from core.scripts import ScriptRegistry
from queue_engine.admission import tick_drop
from queue_engine.drop_config import DropConfig
from queue_engine.lease import release_lease, take_lease

log = logging.getLogger("ticketq.queue.admission")

LiveConfigs = Callable[[datetime], Awaitable[list[DropConfig]]]


async def admission_tick(
    redis: RedisClient, scripts: ScriptRegistry, live_configs: LiveConfigs, held: set[int], *,
    clock: Callable[[], datetime], worker_id: str, lease_ttl_ms: int, grace_ms: int,
    takeover_ms: int = 0,
) -> None:
    for config in await live_configs(clock()):
        if not await take_lease(scripts, config.drop_id, worker_id, ttl_ms=lease_ttl_ms):
            held.discard(config.drop_id)
            continue
        if config.drop_id not in held:
            log.info("worker %s now paces drop %s", worker_id, config.drop_id)
            held.add(config.drop_id)
        # Time is read per drop: a slow drop must not make the next one's pacing stale.
        result = await tick_drop(redis, scripts, config, now_ms=to_ms(clock()), grace_ms=grace_ms,
                                 takeover_ms=takeover_ms)
        if result.opened_now:
            log.info("drop %s opened: pre-queue shuffled into the line", config.drop_id)


async def admission_loop(
    redis: RedisClient, scripts: ScriptRegistry, live_configs: LiveConfigs, *,
    clock: Callable[[], datetime], worker_id: str, tick_ms: int, lease_ttl_ms: int,
    grace_ms: int,
) -> None:
    """Tick every `tick_ms` until cancelled; release leases on the way out.

    `live_configs(now)` lists the drops to pace (drafts too: their synced meta is what
    refuses fans); `grace_ms` is how long a silent fan keeps their place."""
    interval = tick_ms / 1000
    # After a worker dies, its lease runs out (lease_ttl_ms after its last renewal) and
    # the next tick of a survivor takes over; a tick of slack for a late one. Pacing
    # owes that whole gap (queue_engine.passes.admit_batch), so takeovers cost nothing.
    takeover_ms = lease_ttl_ms + 2 * tick_ms
    held: set[int] = set()
    loop = asyncio.get_running_loop()
    try:
        while True:
            started = loop.time()
            try:
                await admission_tick(redis, scripts, live_configs, held, clock=clock,
                                     worker_id=worker_id, lease_ttl_ms=lease_ttl_ms,
                                     grace_ms=grace_ms, takeover_ms=takeover_ms)
            except Exception:
                # One bad tick (a Redis blip, a DB restart) must not stop admissions.
                log.exception("admission tick failed")
            await asyncio.sleep(max(0.0, interval - (loop.time() - started)))
    finally:
        for drop_id in held:
            with contextlib.suppress(Exception):
                await release_lease(scripts, drop_id, worker_id)

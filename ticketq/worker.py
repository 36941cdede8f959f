"""`ticketq worker`: runs every part's background jobs until stopped.

A job is `async def job(ctx: WorkerContext) -> None` that loops until cancelled.
Parts list their jobs in JOBS below as "module:function"; the worker imports
them lazily so the core never imports a part at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bootstrap.queue_configs import live_configs
from core.clock import utcnow
from core.db import create_engine, create_sessionmaker
from core.redis_client import RedisClient, close_redis, create_redis
from core.scripts import ScriptRegistry
from core.settings import Settings
from queue_engine.jobs import admission_loop

log = logging.getLogger("ticketq.worker")

# Every background job, in start order. Missing modules are skipped with a log line.
JOBS: list[str] = [
    "ticketq.worker:admission_job",
    "purchase.jobs:hold_sweeper",
    "purchase.jobs:payment_reconciler",
    "purchase.jobs:cancellation_refunder",
    "lottery.jobs:lottery_settler",
]


@dataclass
class WorkerContext:
    settings: Settings
    redis: RedisClient
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    scripts: ScriptRegistry
    clock: Callable[[], datetime] = utcnow
    # Identifies this process in leases, so another worker can take over when it dies.
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")


Job = Callable[[WorkerContext], Awaitable[None]]


async def admission_job(ctx: WorkerContext) -> None:
    """queue_engine.jobs.admission_loop, given its dependencies explicitly (the waiting room
    knows no worker context and reads no Postgres: live drops come from bootstrap)."""
    await admission_loop(
        ctx.redis, ctx.scripts, live_configs(ctx.sessionmaker), clock=ctx.clock,
        worker_id=ctx.worker_id, tick_ms=ctx.settings.admission_tick_ms,
        lease_ttl_ms=ctx.settings.lease_ttl_ms,
        grace_ms=ctx.settings.queue_grace_seconds * 1000,
    )


def load_jobs(names: list[str]) -> list[tuple[str, Job]]:
    jobs = []
    for name in names:
        module_name, _, function_name = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            log.info("job %s not available (no module %s)", name, module_name)
            continue
        job = getattr(module, function_name, None)
        if job is None:
            log.info("job %s not available (no function %s)", name, function_name)
            continue
        jobs.append((name, job))
    return jobs


async def _supervise(name: str, job: Job, ctx: WorkerContext) -> None:
    """Restart a job that crashed, after a pause: one bad tick must not stop admissions."""
    while True:
        try:
            await job(ctx)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s crashed; restarting in 1 s", name)
            await asyncio.sleep(1)


async def run_worker(settings: Settings, job_names: list[str] | None = None) -> None:
    redis = create_redis(settings.redis_url or "", cluster=settings.redis_cluster)
    engine = create_engine(settings.database_url or "", pool_size=5)
    ctx = WorkerContext(
        settings=settings,
        redis=redis,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        scripts=ScriptRegistry(redis),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    jobs = load_jobs(job_names if job_names is not None else JOBS)
    log.info("worker %s running jobs: %s", ctx.worker_id, ", ".join(n for n, _ in jobs) or "none")
    tasks = [asyncio.create_task(_supervise(name, job, ctx), name=name) for name, job in jobs]
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        # Bounded: a job whose library swallowed its cancellation must not keep the
        # process alive after SIGTERM.
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=10)
            for task in stuck:
                log.warning("job %s did not stop within 10 s; leaving it", task.get_name())
        await close_redis(redis)
        await engine.dispose()

"""`ticketq worker`: runs every part's background jobs until stopped.

The jobs are a plain list of imported functions (JOBS): a renamed or broken job fails
the worker at import, never silently at run time. Each entry hands its job only the
services the job's signature names, taken from the one `Services` of this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Counter, Gauge, start_http_server

from accounts.revocation_restore import revocation_restorer
from accounts.session_pruning import session_pruner
from bootstrap.queue_configs import live_configs
from bootstrap.services import Services, open_services
from core.settings import Settings
from lottery import jobs as lottery_jobs
from lottery.settlement import SettleOptions
from mail.attachments import TICKETS_PDF
from mail.sender import mail_sender
from mail.smtp import MailSettings
from purchase import jobs as purchase_jobs
from queue_engine import jobs as queue_jobs
from scanner.ticket_pdf import tickets_pdf_renderer

log = logging.getLogger("ticketq.worker")

JOB_RESTARTS = Counter("ticketq_worker_job_restarts_total", "Jobs restarted after a crash",
                       ["job"])
JOBS_RUNNING = Gauge("ticketq_worker_jobs_running", "Background jobs running in this worker")


@dataclass(frozen=True)
class Job:
    name: str
    # Runs until cancelled; given the process's services and this worker's id.
    run: Callable[[Services, str], Awaitable[None]]


def _admission(services: Services, worker_id: str) -> Awaitable[None]:
    # The waiting room reads no Postgres: the live drops' configs come from bootstrap.
    settings = services.settings
    return queue_jobs.admission_loop(
        services.redis, services.scripts, live_configs(services.sessionmaker),
        clock=services.clock, worker_id=worker_id, tick_ms=settings.admission_tick_ms,
        lease_ttl_ms=settings.lease_ttl_ms, grace_ms=settings.queue_grace_seconds * 1000,
    )


def _lottery_settler(services: Services, worker_id: str) -> Awaitable[None]:
    settings = services.settings
    options = SettleOptions(worker_id=worker_id,
                            concurrency=settings.lottery_settle_concurrency,
                            lease=timedelta(seconds=settings.lottery_claim_seconds))
    return lottery_jobs.lottery_settler(services.sessionmaker, services.lottery_payments,
                                        options, services.clock)


def _mail_sender(services: Services, worker_id: str) -> Awaitable[None]:
    # The attachments mail/ cannot make itself (it sits below the scanner): by name.
    renderers = {TICKETS_PDF: tickets_pdf_renderer(services.sessionmaker,
                                                   services.ticket_keyring)}
    return mail_sender(services.sessionmaker, MailSettings.from_settings(services.settings),
                       services.clock, worker_id, renderers)


def _revocation_restorer(services: Services, _: str) -> Awaitable[None]:
    return revocation_restorer(services.sessionmaker, services.redis, services.clock,
                               ttl_s=services.settings.token_ttl_seconds)


def _session_pruner(services: Services, _: str) -> Awaitable[None]:
    return session_pruner(services.sessionmaker, services.clock,
                          ttl_s=services.settings.token_ttl_seconds)


# Every background job, in start order.
JOBS: list[Job] = [
    Job("accounts.revocation_restorer", _revocation_restorer),
    Job("accounts.session_pruner", _session_pruner),
    Job("queue_engine.admission", _admission),
    Job("purchase.hold_sweeper", lambda services, _: purchase_jobs.hold_sweeper(services.purchase)),
    Job("purchase.payment_reconciler",
        lambda services, _: purchase_jobs.payment_reconciler(services.purchase)),
    Job("purchase.cancellation_refunder",
        lambda services, _: purchase_jobs.cancellation_refunder(services.purchase)),
    Job("lottery.settler", _lottery_settler),
    Job("mail.sender", _mail_sender),
]


def select_jobs(only: Sequence[str] | None) -> list[Job]:
    """The jobs whose name contains one of `only` (all when empty); unknown words fail."""
    if not only:
        return list(JOBS)
    unknown = [word for word in only if not any(word in job.name for job in JOBS)]
    if unknown:
        names = ", ".join(job.name for job in JOBS)
        raise ValueError(f"no job matches {', '.join(unknown)}; jobs are: {names}")
    return [job for job in JOBS if any(word in job.name for word in only)]


def worker_id() -> str:
    """Identifies this process in leases, so another worker can take over when it dies."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def _supervise(job: Job, services: Services, worker: str) -> None:
    """Restart a job that crashed, after a pause: one bad tick must not stop admissions."""
    while True:
        try:
            await job.run(services, worker)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s crashed; restarting in 1 s", job.name)
            JOB_RESTARTS.labels(job.name).inc()
            await asyncio.sleep(1)


async def run_worker(settings: Settings, jobs: Sequence[Job] = JOBS) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    worker = worker_id()
    if settings.worker_metrics_port:
        # A thread of prometheus_client's: a scrape never waits on the event loop.
        start_http_server(settings.worker_metrics_port, addr=settings.host)
    async with open_services(settings, db_pool_size=5) as services:
        log.info("worker %s running jobs: %s", worker, ", ".join(j.name for j in jobs) or "none")
        tasks = [asyncio.create_task(_supervise(job, services, worker), name=job.name)
                 for job in jobs]
        JOBS_RUNNING.set(len(tasks))
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

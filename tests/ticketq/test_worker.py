"""ticketq/worker.py: the worker's own Prometheus /metrics."""

from __future__ import annotations

import asyncio
import contextlib

import httpx

from core.embedded import free_port
from core.settings import Settings
from tests.support.waiting import eventually
from ticketq.worker import run_worker, select_jobs


async def test_the_worker_serves_prometheus_metrics_on_its_port(settings: Settings) -> None:
    port = free_port()
    task = asyncio.create_task(run_worker(settings.replace(worker_metrics_port=port),
                                          select_jobs(["mail.sender"])))
    url = f"http://{settings.host}:{port}/metrics"

    async def scraped() -> str:
        async with httpx.AsyncClient() as client:
            with contextlib.suppress(httpx.TransportError):
                response = await client.get(url)
                if "ticketq_worker_jobs_running 1.0" in response.text:
                    return response.text
        return ""

    try:
        text = await eventually(scraped)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert "ticketq_worker_job_restarts_total" in text


def test_metrics_are_off_by_default() -> None:
    assert Settings.from_env({}).worker_metrics_port == 0

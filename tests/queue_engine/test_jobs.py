"""The admission worker: paced over a minute on a controlled clock, and taken over by
another `ticketq worker` process when the one holding the lease is killed."""

from __future__ import annotations

import os
import signal

import pytest

from bootstrap.queue_configs import load_drop_config
from core.clock import to_ms, utcnow
from core.redis_keys import DropKeys
from gateway.context import app_services
from queue_engine.admission import tick_drop
from queue_engine.drop_config import sync_config
from queue_engine.line import join_line, open_line
from queue_engine.positions import read_status
from tests.support.api import create_drop_setup
from tests.support.processes import service_env, worker_process
from tests.support.waiting import eventually


async def _drop_with_fans(app, client, fans: int, **pacing) -> int:
    setup = await create_drop_setup(client, **pacing)
    config = await load_drop_config(app_services(app).sessionmaker, setup.drop_id)
    await sync_config(app_services(app).redis, config)
    now_ms = to_ms(utcnow())
    await open_line(app_services(app).scripts, setup.drop_id, now_ms=now_ms)
    for fan in range(1, fans + 1):
        await join_line(app_services(app).scripts, setup.drop_id, fan, now_ms=now_ms)
    return setup.drop_id


async def test_admission_rate_over_a_minute_is_within_5_percent(app, client):
    """One simulated minute of 500 ms ticks on a controlled clock (time is an input)."""
    drop_id = await _drop_with_fans(app, client, 800, admit_per_minute=600, max_active=10_000)
    config = await load_drop_config(app_services(app).sessionmaker, drop_id)
    scripts = app_services(app).scripts
    now_ms = to_ms(utcnow())
    await tick_drop(app_services(app).redis, scripts, config, now_ms=now_ms, grace_ms=3_600_000)
    start = (await read_status(scripts, drop_id, now_ms=now_ms)).admitted_total
    for _ in range(120):
        now_ms += 500
        await tick_drop(app_services(app).redis, scripts, config, now_ms=now_ms, grace_ms=3_600_000)
    admitted = (await read_status(scripts, drop_id, now_ms=now_ms)).admitted_total - start
    assert abs(admitted - 600) <= 30, admitted


def _pid_of(holder: bytes | None) -> int | None:
    return int(holder.decode().rsplit(":", 1)[1]) if holder else None


@pytest.mark.slow
async def test_another_worker_takes_over_when_the_lease_holder_dies(app, client, services):
    drop_id = await _drop_with_fans(app, client, 400, admit_per_minute=1200, max_active=10_000)
    redis, keys = app_services(app).redis, DropKeys(drop_id)
    env = service_env(services.redis_url, services.database_url,
                      TICKETQ_ADMISSION_TICK_MS="200", TICKETQ_LEASE_TTL_MS="1500")
    logs = services.folder / "logs"

    async def admitted() -> int:
        return int(await redis.hget(keys.meta, "admitted") or 0)

    with (worker_process(env, logs, "worker-a") as first,
          worker_process(env, logs, "worker-b") as second):
        pids = {first.process.pid: first, second.process.pid: second}
        lease = await eventually(lambda: redis.get(keys.lease), message="a lease holder")
        holder = _pid_of(lease)
        assert holder in pids
        await eventually(admitted, message="first admissions")
        os.kill(holder, signal.SIGKILL)
        pids[holder].process.wait(5)
        at_kill = await admitted()
        survivor = next(pid for pid in pids if pid != holder)

        async def taken_over() -> bool:
            return _pid_of(await redis.get(keys.lease)) == survivor

        await eventually(taken_over, timeout_s=10,
                         message="the surviving worker to take the lease")
        await eventually(lambda: _more(admitted, at_kill), timeout_s=10,
                         message="admissions to continue")
        assert "now paces drop" in pids[survivor].log()


async def _more(counter, than: int) -> bool:
    return await counter() > than

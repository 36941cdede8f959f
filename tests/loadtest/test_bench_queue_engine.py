"""The engine benchmark's redis-benchmark reference runs the script Redis would run
(issue 15: it once timed join_line's raw text, whose includes were missing)."""

from __future__ import annotations

import pytest

from core.clock import to_ms, utcnow
from core.redis_client import RedisClient
from core.redis_keys import SCRIPT_KEYS, DropKeys
from core.scripts import load_sources
from loadtest.bench_queue_engine import check_reference, load_reference, reference_command
from loadtest.bench_queue_kit import prepare_drop
from tests.queue_engine.conftest import new_drop_id


async def test_the_reference_join_runs_without_an_error_reply(redis: RedisClient):
    drop_id, now_ms = new_drop_id(), to_ms(utcnow())
    await prepare_drop(redis, drop_id, now_ms=now_ms)
    keys = SCRIPT_KEYS["join_line"](DropKeys(drop_id))
    command = reference_command(await load_reference(redis), keys, "7", now_ms)
    await check_reference(redis, command)
    reply = await redis.execute_command(*reference_command(command[1], keys, "8", now_ms))
    assert int(reply[0]) == 1 and reply[1] == b"waiting"  # a new place, as join_line gives
    assert await redis.zscore(DropKeys(drop_id).line, "7") is not None


async def test_a_reference_that_errors_is_refused(redis: RedisClient):
    drop_id, now_ms = new_drop_id(), to_ms(utcnow())
    await prepare_drop(redis, drop_id, now_ms=now_ms)
    keys = SCRIPT_KEYS["join_line"](DropKeys(drop_id))
    raw = str(await redis.script_load(load_sources()["join_line"].text))  # no includes
    with pytest.raises(RuntimeError, match="reference errors"):
        await check_reference(redis, reference_command(raw, keys, "7", now_ms))

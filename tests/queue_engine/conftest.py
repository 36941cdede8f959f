"""Fixtures for the waiting-room engine: scripts on single Redis and Cluster, fresh drops."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.redis_client import RedisClient
from core.redis_keys import DropKeys
from queue_engine.drop_config import DropConfig, sync_config

# Scripted tests run on a fixed clock; drop ids are unique per run so tests never share keys.
T0 = 1_800_000_000_000
DROP_KEY_NAMES = ("meta", "prequeue", "line", "fanseq", "active", "passes", "admissions",
                  "departures", "lease")
_ids = itertools.count(int(time.time()) % 100_000 * 1000 + os.getpid() % 1000 * 100_000_000)


def new_drop_id() -> int:
    return next(_ids)


def drop_config(drop_id: int, **overrides: Any) -> DropConfig:
    fields: dict[str, Any] = {
        "drop_id": drop_id, "prequeue_opens_at_ms": T0 - 600_000, "opens_at_ms": T0,
        "closes_at_ms": T0 + 3_600_000, "admit_per_minute": 600, "max_active": 1000,
        "session_seconds": 600, "state": "scheduled", "visible": True,
    }
    fields.update(overrides)
    return DropConfig(**fields)


@pytest.fixture
async def make_drop(any_redis: RedisClient) -> AsyncIterator[Callable[..., Any]]:
    """Create a drop's meta in Redis (as the worker's sync would) and return its config.
    The drops' keys are deleted afterwards (the chi-square test alone makes 1,600)."""
    made: list[int] = []

    async def make(**overrides: Any) -> DropConfig:
        config = drop_config(new_drop_id(), **overrides)
        made.append(config.drop_id)
        await sync_config(any_redis, config)
        return config

    yield make
    for drop_id in made:
        keys = DropKeys(drop_id)
        # One slot per drop, so one DEL per drop also works on Cluster.
        await any_redis.delete(*(keys.key(name) for name in DROP_KEY_NAMES))

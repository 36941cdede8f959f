"""KEYS for each queue script, in the order of its contract header (a test checks this)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from core.redis_keys import DropKeys
from core.scripts import ScriptError
from queue_engine.errors import queue_error

KEYS_FOR: dict[str, Callable[[DropKeys], list[str]]] = {
    "join_line": lambda k: [k.meta, k.prequeue, k.line, k.fan_seq, k.heartbeat, k.active,
                            k.passes],
    "open_line": lambda k: [k.meta, k.prequeue, k.line, k.fan_seq],
    "heartbeat_fan": lambda k: [k.line, k.fan_seq, k.heartbeat],
    "leave_line": lambda k: [k.meta, k.prequeue, k.line, k.fan_seq, k.heartbeat, k.departures],
    "admit_batch": lambda k: [k.meta, k.line, k.heartbeat, k.active, k.passes, k.admissions],
    "end_pass": lambda k: [k.meta, k.active, k.passes],
    "expire_passes": lambda k: [k.active, k.passes],
    "read_positions": lambda k: [k.meta, k.line, k.prequeue, k.active, k.admissions,
                                 k.departures],
    "read_fans": lambda k: [k.meta, k.line, k.fan_seq, k.active, k.passes],
    "take_lease": lambda k: [k.lease],
    "release_lease": lambda k: [k.lease],
}


@functools.lru_cache(maxsize=8192)
def cached_keys(name: str, drop_id: int) -> tuple[str, ...]:
    """KEYS built once per drop and script: on a hot path (a join herd) the key strings
    would otherwise be rebuilt on every call."""
    return tuple(KEYS_FOR[name](DropKeys(drop_id)))


class ScriptRunner(Protocol):
    """A ScriptRegistry, or a ScriptBatcher in front of one (core.script_batching)."""

    async def run(self, name: str, keys: list[str], args: list[Any]) -> Any: ...


async def run_queue_script(
    scripts: ScriptRunner, name: str, keys: DropKeys, args: Sequence[object]
) -> Any:
    """Run one queue script with its KEYS, turning `TQ:` refusals into queue errors."""
    try:
        return await scripts.run(name, list(cached_keys(name, keys.drop_id)), list(args))
    except ScriptError as exc:
        raise queue_error(exc) from exc


def text(value: object) -> str:
    """Redis replies are bytes unless the client decodes them."""
    return value.decode() if isinstance(value, bytes) else str(value)

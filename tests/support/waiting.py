"""The one way tests wait for something another process or task does: `eventually`.

A wait is a check called until it returns something truthy, bounded by a generous
timeout that only decides when to give up (never what passes: no timed asserts).
On timeout the test fails with the message and the check's last value, so a
failure says what was seen, not only that time ran out.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import pytest

T = TypeVar("T")

TIMEOUT_S = 30.0
INTERVAL_S = 0.1


def _give_up(message: str, timeout_s: float, last: object) -> NoReturn:
    pytest.fail(f"{message}: not true after {timeout_s}s (last value: {last!r})")


async def eventually(
    check: Callable[[], Awaitable[T] | T],
    *,
    timeout_s: float = TIMEOUT_S,
    interval_s: float = INTERVAL_S,
    message: str = "condition",
) -> T:
    """Call `check` (sync or async) until it returns a truthy value, and return that value.

    A check that blocks (a socket read) is cut off at the deadline too.
    """
    last: object = None
    deadline = time.monotonic() + timeout_s
    scope = asyncio.timeout(timeout_s)
    try:
        async with scope:
            while True:
                value = check()
                if inspect.isawaitable(value):
                    value = await value
                last = value
                if value:
                    return value  # type: ignore[return-value]
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(interval_s)
    except TimeoutError:
        if not scope.expired():
            raise  # the check's own timeout, not ours
    _give_up(message, timeout_s, last)


def eventually_sync(
    check: Callable[[], T],
    *,
    timeout_s: float = TIMEOUT_S,
    interval_s: float = INTERVAL_S,
    message: str = "condition",
) -> T:
    """`eventually` for synchronous tests (subprocesses, blocking clients)."""
    last: object = None
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        last = value
        if value:
            return value
        if time.monotonic() >= deadline:
            break
        time.sleep(interval_s)
    _give_up(message, timeout_s, last)

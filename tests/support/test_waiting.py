"""The wait helper: returns the check's value, and fails saying what it last saw."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.waiting import eventually, eventually_sync


async def test_returns_the_first_truthy_value_of_an_async_check() -> None:
    seen: list[int] = []

    async def grows() -> list[int] | None:
        seen.append(len(seen))
        return seen if len(seen) >= 3 else None

    assert await eventually(grows, interval_s=0) == [0, 1, 2]


async def test_takes_a_sync_check_too() -> None:
    assert await eventually(lambda: "ready") == "ready"


async def test_fails_with_the_message_and_the_last_value() -> None:
    async def still_queued() -> str:
        return ""  # falsy: nothing drained yet

    with pytest.raises(pytest.fail.Exception, match=r"the queue to drain: .*last value: ''"):
        await eventually(still_queued, timeout_s=0.2, interval_s=0.05,
                         message="the queue to drain")


async def test_a_blocking_check_is_cut_off_at_the_deadline() -> None:
    never: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    with pytest.raises(pytest.fail.Exception, match="a message"):
        await eventually(lambda: never, timeout_s=0.1, message="a message")


async def test_a_timeout_raised_by_the_check_itself_is_not_swallowed() -> None:
    async def times_out() -> None:
        raise TimeoutError("the check's own")

    with pytest.raises(TimeoutError, match="the check's own"):
        await eventually(times_out, timeout_s=5)


def test_sync_twin_returns_and_fails_the_same_way() -> None:
    values = iter([0, 0, "done"])
    assert eventually_sync(lambda: next(values), interval_s=0) == "done"
    with pytest.raises(pytest.fail.Exception, match=r"nothing: .*last value: \[\]"):
        eventually_sync(lambda: [], timeout_s=0.1, interval_s=0.02, message="nothing")

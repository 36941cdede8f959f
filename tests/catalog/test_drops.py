"""A drop's schedule is checked before anything is written; unknown drops are a 404."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.drops import MAX_SESSION_SECONDS, DropSchedule, visible_drop
from core.errors import NotFound

OPENS = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)
GOOD = DropSchedule(mode="direct", prequeue_opens_at=OPENS - timedelta(minutes=30),
                    opens_at=OPENS, closes_at=OPENS + timedelta(hours=2), admit_per_minute=600,
                    max_active=500, session_seconds=600)


def problems(**changes: object) -> list[str]:
    return dataclasses.replace(GOOD, **changes).problems()  # type: ignore[arg-type]


def test_a_sound_schedule_has_no_problems() -> None:
    assert GOOD.problems() == []
    assert problems(mode="lottery") == []
    # Edges that are allowed: no pre-queue, the shortest and longest limits.
    assert problems(prequeue_opens_at=OPENS) == []
    assert problems(session_seconds=30, hold_seconds=60) == []
    assert problems(session_seconds=MAX_SESSION_SECONDS, hold_seconds=3600) == []
    assert problems(closes_at=OPENS + timedelta(days=60)) == []


@pytest.mark.parametrize(("changes", "problem"), [
    ({"mode": "auction"}, "mode must be 'direct' or 'lottery'"),
    ({"prequeue_opens_at": OPENS + timedelta(seconds=1)},
     "prequeue_opens_at must not be after opens_at"),
    ({"closes_at": OPENS}, "closes_at must be after opens_at"),
    ({"admit_per_minute": 0}, "admit_per_minute must be at least 1"),
    ({"max_active": 0}, "max_active must be at least 1"),
    ({"session_seconds": 29}, f"session_seconds must be between 30 and {MAX_SESSION_SECONDS}"),
    ({"session_seconds": MAX_SESSION_SECONDS + 1},
     f"session_seconds must be between 30 and {MAX_SESSION_SECONDS}"),
    ({"hold_seconds": 59}, "hold_seconds must be between 60 and 3600"),
    ({"hold_seconds": 3601}, "hold_seconds must be between 60 and 3600"),
    ({"closes_at": OPENS + timedelta(days=60, seconds=1)},
     "a drop may stay open for at most 60 days"),
])
def test_each_problem_is_named(changes: dict[str, object], problem: str) -> None:
    assert problems(**changes) == [problem]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(closes_at=OPENS, admit_per_minute=0, max_active=0)
    assert found == ["closes_at must be after opens_at", "admit_per_minute must be at least 1",
                     "max_active must be at least 1"]
    # A wrong mode or a naive time stops the checks there (the later ones compare times).
    assert problems(mode="x", admit_per_minute=0) == ["mode must be 'direct' or 'lottery'"]


def test_naive_times_are_reported_before_comparing_them() -> None:
    # Comparing naive with aware datetimes would raise TypeError (a 500): say so instead.
    naive = OPENS.replace(tzinfo=None)
    assert problems(opens_at=naive, closes_at=naive + timedelta(hours=1)) == [
        "opens_at needs a timezone offset", "closes_at needs a timezone offset"]


async def test_an_unknown_drop_is_not_found(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        with pytest.raises(NotFound, match="no such drop"):
            await visible_drop(session, None, 987_654_321_012)

"""Time as an input: the one conversion between datetimes and the `now_ms` scripts take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from core.clock import from_ms, to_ms, utcnow


def test_utcnow_is_aware_and_in_utc() -> None:
    now = utcnow()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)


def test_milliseconds_round_trip_in_utc() -> None:
    moment = datetime(2026, 11, 3, 18, 30, 15, 123_000, tzinfo=UTC)
    assert to_ms(moment) == 1_793_730_615_123
    assert from_ms(to_ms(moment)) == moment
    assert from_ms(0) == datetime(1970, 1, 1, tzinfo=UTC)


def test_the_same_instant_in_another_zone_is_the_same_ms() -> None:
    paris = datetime(2026, 11, 3, 19, 30, 15, tzinfo=timezone(timedelta(hours=1)))
    assert to_ms(paris) == to_ms(datetime(2026, 11, 3, 18, 30, 15, tzinfo=UTC))
    assert from_ms(to_ms(paris)).tzinfo is UTC


def test_sub_millisecond_parts_are_dropped_not_rounded_up() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=1_999)
    assert to_ms(moment) - to_ms(datetime(2026, 1, 1, tzinfo=UTC)) == 1


def test_every_millisecond_survives_a_round_trip() -> None:
    # Float seconds must not turn 18:30:15.123 into .122 on the way to a Lua script.
    start = to_ms(datetime(2026, 11, 3, tzinfo=UTC))
    assert [ms for ms in range(start, start + 20_000) if to_ms(from_ms(ms)) != ms] == []

"""Rotating codes against the RFC 4226 / RFC 6238 test vectors, and their time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scanner.codes import (
    code_matches,
    code_was_shown_before,
    current_code,
    hotp,
    ticket_code_secret,
    time_step,
)

RFC_SECRET = b"12345678901234567890"


@pytest.mark.parametrize(("counter", "code"), [(0, 755224), (1, 287082), (2, 359152), (9, 520489)])
def test_rfc4226_vectors(counter: int, code: int) -> None:
    assert hotp(RFC_SECRET, counter) == code


@pytest.mark.parametrize(("unix", "code8"), [(59, "94287082"), (1111111109, "07081804"),
                                             (1234567890, "89005924"), (2000000000, "69279037")])
def test_rfc6238_sha1_vectors_last_six_digits(unix: int, code8: str) -> None:
    moment = datetime.fromtimestamp(unix, UTC)
    assert current_code(RFC_SECRET, moment, 30) == int(code8[-6:])


def test_window_accepts_neighbouring_steps_only() -> None:
    secret = ticket_code_secret(b"s" * 32, "00000000-0000-0000-0000-000000000001")
    now = datetime(2026, 12, 1, 20, 0, 7, tzinfo=UTC)
    code = current_code(secret, now, 15)
    assert code_matches(secret, code, now, 15)
    assert code_matches(secret, code, now + timedelta(seconds=15), 15)
    assert not code_matches(secret, code, now + timedelta(seconds=45), 15)
    assert not code_matches(secret, (code + 1) % 1_000_000, now, 15)
    assert time_step(now, 15) == int(now.timestamp()) // 15


def test_code_shown_before_looks_back_only_as_far_as_asked() -> None:
    secret = ticket_code_secret(b"s" * 32, "00000000-0000-0000-0000-000000000001")
    now = datetime(2026, 12, 1, 20, 0, 7, tzinfo=UTC)
    ten_minutes_ago = current_code(secret, now - timedelta(minutes=10), 15)
    assert code_was_shown_before(secret, ten_minutes_ago, now, 15, steps_back=40)
    assert not code_was_shown_before(secret, ten_minutes_ago, now, 15, steps_back=39)
    # The current code is not "shown before", nor is a later one.
    assert not code_was_shown_before(secret, current_code(secret, now, 15), now, 15,
                                     steps_back=0)
    later = current_code(secret, now + timedelta(minutes=1), 15)
    assert not code_was_shown_before(secret, later, now + timedelta(seconds=1), 15, steps_back=1)


def test_each_ticket_has_its_own_secret() -> None:
    seed = b"s" * 32
    first = ticket_code_secret(seed, "00000000-0000-0000-0000-000000000001")
    second = ticket_code_secret(seed, "00000000-0000-0000-0000-000000000002")
    assert first != second
    assert ticket_code_secret(b"t" * 32, "00000000-0000-0000-0000-000000000001") != first

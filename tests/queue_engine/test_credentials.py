"""Queue tickets and admission passes: forged, expired, foreign ones are refused."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner

from core.signed_fields import CredentialExpired, CredentialForeign, CredentialInvalid
from queue_engine.credentials import ADMISSION_PASS_SALT, QUEUE_TICKET_SALT, CredentialSigner

SIGNER = CredentialSigner("test-secret-key-for-queue-credentials")
NOW_MS = int(time.time() * 1000)


def test_queue_ticket_round_trip_and_refusals() -> None:
    ticket = SIGNER.queue_ticket(5, 9)
    assert SIGNER.read_queue_ticket(ticket, drop_id=9, ttl_seconds=60, fan_id=5).fan_id == 5
    with pytest.raises(CredentialForeign):
        SIGNER.read_queue_ticket(ticket, drop_id=10, ttl_seconds=60)
    with pytest.raises(CredentialForeign):
        SIGNER.read_queue_ticket(ticket, drop_id=9, ttl_seconds=60, fan_id=6)
    with pytest.raises(CredentialInvalid):
        SIGNER.read_queue_ticket(ticket[:-2] + "xx", drop_id=9, ttl_seconds=60)
    with pytest.raises(CredentialInvalid):
        CredentialSigner("another-key").read_queue_ticket(ticket, drop_id=9, ttl_seconds=60)
    # A pass cannot stand in for a ticket (distinct salts).
    admission = SIGNER.admission_pass(5, 9, "p1", NOW_MS + 60_000)
    with pytest.raises(CredentialInvalid):
        SIGNER.read_queue_ticket(admission, drop_id=9, ttl_seconds=60)


def test_expired_queue_ticket() -> None:
    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 120

    ticket = LongAgo(SIGNER.secret_key, salt=QUEUE_TICKET_SALT).sign("5~9").decode()
    assert SIGNER.read_queue_ticket(ticket, drop_id=9, ttl_seconds=600).fan_id == 5
    with pytest.raises(CredentialExpired):
        SIGNER.read_queue_ticket(ticket, drop_id=9, ttl_seconds=60)


def test_admission_pass_round_trip_and_refusals() -> None:
    admission = SIGNER.admission_pass(5, 9, "p1", NOW_MS + 60_000)
    read = SIGNER.read_admission_pass(admission, drop_id=9, fan_id=5, now_ms=NOW_MS)
    assert (read.pass_id, read.expires_ms) == ("p1", NOW_MS + 60_000)
    with pytest.raises(CredentialForeign):
        SIGNER.read_admission_pass(admission, drop_id=8, fan_id=5, now_ms=NOW_MS)
    with pytest.raises(CredentialForeign):
        SIGNER.read_admission_pass(admission, drop_id=9, fan_id=6, now_ms=NOW_MS)
    with pytest.raises(CredentialExpired):
        SIGNER.read_admission_pass(admission, drop_id=9, fan_id=5, now_ms=NOW_MS + 60_000)
    with pytest.raises(CredentialInvalid):
        SIGNER.read_admission_pass(admission + "A", drop_id=9, fan_id=5, now_ms=NOW_MS)
    forged = CredentialSigner("guessed").admission_pass(5, 9, "p1", NOW_MS + 60_000)
    with pytest.raises(CredentialInvalid):
        SIGNER.read_admission_pass(forged, drop_id=9, fan_id=5, now_ms=NOW_MS)
    ticket = SIGNER.queue_ticket(5, 9)
    with pytest.raises(CredentialInvalid):
        SIGNER.read_admission_pass(ticket, drop_id=9, fan_id=5, now_ms=NOW_MS)


def test_genuine_but_malformed_fields_are_refused() -> None:
    """Signed with our key and salt, yet not a shape we ever sign: refused, never a crash."""
    signer = TimestampSigner(SIGNER.secret_key, salt=ADMISSION_PASS_SALT)
    for value in ["5~9~p1", "x~9~p1~1", "5~9~p1~-1", "5~9~p1~1~extra", "5~9~p1~１２"]:
        with pytest.raises(CredentialInvalid):
            SIGNER.read_admission_pass(signer.sign(value).decode(), drop_id=9, fan_id=5,
                                       now_ms=0)


def test_fields_that_would_change_shape_are_never_signed() -> None:
    with pytest.raises(ValueError, match="free of"):
        SIGNER.admission_pass(5, 9, "p~1", NOW_MS)

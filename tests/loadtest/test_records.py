"""The rehearsal reads the admission moment from a real pass, and shrugs at anything else."""

from __future__ import annotations

from loadtest.records import pass_admitted_ms
from queue_engine.credentials import CredentialSigner


def test_admission_moment_is_expiry_minus_session() -> None:
    token = CredentialSigner("k").admission_pass(5, 9, "abc.5", 1_700_000_600_000)
    assert pass_admitted_ms(token, session_seconds=600) == 1_700_000_000_000


def test_other_shapes_give_none() -> None:
    for token in ["", "garbage", "5~9~p~x.ts.sig", "5~9.ts.sig"]:
        assert pass_admitted_ms(token, session_seconds=600) is None

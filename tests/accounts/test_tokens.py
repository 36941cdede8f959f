"""Bearer tokens and session cookies: bound to the user, the session, their kind and time.

(This file imported a `CredentialError` that accounts.tokens no longer had, so it had stopped
collecting; it now uses core.signed_fields' refusals.)
"""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner

from accounts.tokens import API_TOKEN_SALT, SESSION_SALT, TokenSigner
from core.signed_fields import CredentialExpired, CredentialInvalid, SignedFields

SECRET = "tokens-test-secret"


def test_a_token_names_its_user_and_session() -> None:
    signer = TokenSigner(SECRET, ttl_seconds=3600)
    assert signer.read(signer.issue(42, 99)) == (42, 99)
    assert signer.user_id(signer.issue(7, kind=SESSION_SALT), kind=SESSION_SALT) == 7


def test_a_session_cookie_is_not_a_bearer_token_nor_the_reverse() -> None:
    signer = TokenSigner(SECRET, ttl_seconds=3600)
    with pytest.raises(CredentialInvalid):
        signer.user_id(signer.issue(42, kind=SESSION_SALT))
    with pytest.raises(CredentialInvalid):
        signer.user_id(signer.issue(42), kind=SESSION_SALT)


def test_another_secret_or_a_changed_byte_is_refused() -> None:
    token = TokenSigner(SECRET, ttl_seconds=3600).issue(42, 5)
    with pytest.raises(CredentialInvalid):
        TokenSigner("another-secret", ttl_seconds=3600).user_id(token)
    forged = "43" + token[2:]  # someone else's id under 42's signature
    with pytest.raises(CredentialInvalid):
        TokenSigner(SECRET, ttl_seconds=3600).user_id(forged)


@pytest.mark.parametrize("junk", ["", "42", "42.abc.def", "x" * 500, "42~1.AAAA.BBBB"])
def test_junk_is_a_credential_error_not_a_crash(junk: str) -> None:
    with pytest.raises(CredentialInvalid):
        TokenSigner(SECRET, ttl_seconds=3600).user_id(junk)


def test_a_signed_but_non_numeric_or_sessionless_token_is_refused() -> None:
    with pytest.raises(CredentialInvalid):
        TokenSigner(SECRET, ttl_seconds=3600).user_id(
            SignedFields(SECRET, API_TOKEN_SALT, 2).sign("admin", 1))
    with pytest.raises(CredentialInvalid):  # a v2-shaped token: no session to revoke
        TokenSigner(SECRET, ttl_seconds=3600).user_id(
            SignedFields(SECRET, API_TOKEN_SALT, 1).sign(42))


def test_a_token_expires_after_its_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = TokenSigner(SECRET, ttl_seconds=60)
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 61)
    old = signer.issue(42)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    with pytest.raises(CredentialExpired):
        signer.user_id(old)
    assert TokenSigner(SECRET, ttl_seconds=120).user_id(old) == 42

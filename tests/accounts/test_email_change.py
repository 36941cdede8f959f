"""accounts/email_change.py: the token's binding and kind, and the link it is mailed in."""

from __future__ import annotations

import pytest

from accounts.email_change import ChangeTokens, confirm_url
from accounts.verification import VerifyTokens, email_digest
from core.models import User
from core.signed_fields import CredentialExpired, CredentialInvalid

SECRET = "a-test-secret-that-is-long-enough-for-this"


def _user(user_id: int = 7, email: str = "Fan@Example.test") -> User:
    return User(id=user_id, email=email, name="Fan", password_hash="x", role="fan")


def test_a_token_names_the_account_the_new_and_the_old_address_by_digest() -> None:
    tokens = ChangeTokens(SECRET, 3600)
    token = tokens.issue(_user(), "New@Example.test")
    assert tokens.read(token) == (7, email_digest("new@example.test"),
                                  email_digest("fan@example.test"))
    assert "example" not in token.lower()
    assert tokens.issue(_user(), "new@example.test") != token  # a nonce: every link differs


def test_tampered_and_other_kinds_of_token_are_invalid() -> None:
    tokens = ChangeTokens(SECRET, 3600)
    token = tokens.issue(_user(), "new@example.test")
    with pytest.raises(CredentialInvalid):
        # Inside the signature, not its last character, whose low bits can be padding.
        spot = len(token) - 10
        tokens.read(token[:spot] + ("A" if token[spot] != "A" else "B") + token[spot + 1:])
    with pytest.raises(CredentialInvalid):  # a sign-up verification link is another kind
        tokens.read(VerifyTokens(SECRET, 3600).issue(_user()))
    with pytest.raises(CredentialInvalid):
        VerifyTokens(SECRET, 3600).read(token)
    with pytest.raises(CredentialInvalid):  # another deployment's secret
        ChangeTokens(SECRET + "-other", 3600).read(token)


def test_an_old_token_has_expired() -> None:
    token = ChangeTokens(SECRET, 3600).issue(_user(), "new@example.test")
    with pytest.raises(CredentialExpired):
        ChangeTokens(SECRET, -1).read(token)


def test_the_link_carries_the_token_in_its_fragment() -> None:
    assert confirm_url("https://t.test", "abc") == "https://t.test/confirm-email#token=abc"

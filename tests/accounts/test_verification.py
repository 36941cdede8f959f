"""accounts/verification.py: the token's binding, the masked address, where links point."""

from __future__ import annotations

import pytest

from accounts.tokens import TokenSigner
from accounts.verification import VerifyTokens, email_digest, link_base, mask_email, verify_url
from core.models import User
from core.settings import Settings
from core.signed_fields import CredentialExpired, CredentialInvalid

SECRET = "a-test-secret-that-is-long-enough-for-this"


def _user(user_id: int = 7, email: str = "Fan@Example.test") -> User:
    return User(id=user_id, email=email, name="Fan", password_hash="x", role="fan")


def test_a_token_names_its_account_and_a_digest_of_its_address() -> None:
    tokens = VerifyTokens(SECRET, 3600)
    token = tokens.issue(_user())
    assert tokens.read(token) == (7, email_digest("fan@example.test"))
    assert "example" not in token.lower()  # the address itself is not in the link


def test_tampered_and_other_kinds_of_token_are_invalid() -> None:
    tokens = VerifyTokens(SECRET, 3600)
    token = tokens.issue(_user())
    with pytest.raises(CredentialInvalid):
        # Inside the signature, not its last character, whose low bits can be padding.
        spot = len(token) - 10
        tokens.read(token[:spot] + ("A" if token[spot] != "A" else "B") + token[spot + 1:])
    with pytest.raises(CredentialInvalid):
        tokens.read(TokenSigner(SECRET, 3600).issue(7, 1))  # a bearer token: another salt
    with pytest.raises(CredentialInvalid):
        VerifyTokens("another-secret-entirely-long-enough-too", 3600).read(token)


def test_a_token_older_than_its_ttl_is_expired() -> None:
    with pytest.raises(CredentialExpired):
        VerifyTokens(SECRET, -1).read(VerifyTokens(SECRET, 3600).issue(_user()))


def test_mask_email_keeps_the_first_letter_and_the_domain() -> None:
    assert mask_email("fan@example.com") == "f***@example.com"


def test_links_point_at_the_public_url_or_the_gateway_never_a_request_host() -> None:
    public = Settings(TICKETQ_PUBLIC_URL="https://tickets.example.com/")
    assert link_base(public) == "https://tickets.example.com"
    assert link_base(Settings(HOST="0.0.0.0", PORT=8123)) == "http://localhost:8123"
    assert verify_url("https://t.example", "abc") == "https://t.example/verify-email#token=abc"

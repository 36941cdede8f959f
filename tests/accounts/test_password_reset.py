"""Reset tokens: bound to the account and its current password hash, expiring, unforgeable."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner

from accounts.password_reset import ResetLinkExpired, ResetLinkInvalid, ResetTokens, reset_url
from accounts.passwords import hash_password
from accounts.tokens import TokenSigner
from core.models import User

TOKENS = ResetTokens("a secret key for tests only, long enough", 1800)


def _user(user_id: int = 7, password: str = "old password") -> User:
    return User(id=user_id, email="fan@example.test", name="Fan",
                password_hash=hash_password(password))


def test_a_token_reads_back_and_matches_only_the_hash_it_was_issued_for() -> None:
    user = _user()
    user_id, binding = TOKENS.read(TOKENS.issue(user))
    assert user_id == 7 and TOKENS.matches(user, binding)
    user.password_hash = hash_password("old password")  # same password, new salt
    assert not TOKENS.matches(user, binding)


def test_every_link_is_distinct_and_says_nothing_checkable_about_the_hash() -> None:
    user = _user()
    first, second = TOKENS.issue(user), TOKENS.issue(user)
    assert first != second
    assert user.password_hash not in first and user.password_hash.split("$")[-1] not in first


def test_forged_and_foreign_tokens_are_invalid() -> None:
    genuine = TOKENS.issue(_user())
    with pytest.raises(ResetLinkInvalid):
        TOKENS.read(genuine.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAA")
    with pytest.raises(ResetLinkInvalid):
        TOKENS.read(genuine.replace("7~", "8~", 1))
    bearer = TokenSigner(TOKENS.secret_key, 3600).issue(7, 1)
    with pytest.raises(ResetLinkInvalid):
        TOKENS.read(bearer)
    with pytest.raises(ResetLinkInvalid):
        TOKENS.read("not a token")
    with pytest.raises(ResetLinkInvalid):  # another secret key
        ResetTokens("another secret key, just as long as that", 1800).read(genuine)


def test_an_old_token_is_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - 1801)
    old = TOKENS.issue(_user())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    with pytest.raises(ResetLinkExpired) as refused:
        TOKENS.read(old)
    assert "expired" in refused.value.detail


def test_the_link_is_the_contracts_reset_page() -> None:
    assert reset_url("https://tq.example", "t.1.s") == "https://tq.example/reset?token=t.1.s"

"""accounts/totp.py: RFC 6238 codes checked against pyotp and RFC 4226's test vectors,
secrets encrypted at rest, recovery codes single use, steps never accepted twice."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import totp
from core.models import TotpCredential, TotpRecoveryCode, User
from core.settings import Settings

KEY = "a-test-secret-key-that-is-long-enough-0123456789"
# RFC 4226 appendix D: the key "12345678901234567890" and counters 0..9.
RFC4226 = ["755224", "287082", "359152", "969429", "338314",
           "254676", "287922", "162583", "399871", "520489"]


def test_hotp_matches_the_rfc_4226_test_vectors() -> None:
    key = b"12345678901234567890"
    assert [totp.hotp(key, counter) for counter in range(10)] == RFC4226


def test_codes_match_pyotp_at_many_times() -> None:
    secret = totp.new_secret()
    reference = pyotp.TOTP(secret)
    for seconds in (0, 59, 1_111_111_109, 1_234_567_890, 2_000_000_000, 20_000_000_000):
        moment = datetime.fromtimestamp(seconds, UTC)
        step = totp.step_at(moment)
        assert totp.hotp(totp.decode_secret(secret), step) == reference.at(seconds)
        assert totp.matching_step(secret, reference.at(seconds), moment) == step


def test_one_step_either_side_is_accepted_and_two_are_not() -> None:
    secret, now = totp.new_secret(), datetime.now(UTC)
    reference = pyotp.TOTP(secret)
    step = totp.step_at(now)
    for offset in (-1, 0, 1):
        moment = now + timedelta(seconds=30 * offset)
        assert totp.matching_step(secret, reference.at(moment), now) == step + offset
    for offset in (-2, 2):
        code = reference.at(now + timedelta(seconds=30 * offset))
        if code not in {reference.at(now + timedelta(seconds=30 * o)) for o in (-1, 0, 1)}:
            assert totp.matching_step(secret, code, now) is None


def test_the_otpauth_uri_is_what_authenticator_apps_read() -> None:
    secret = totp.new_secret()
    parsed = pyotp.parse_uri(totp.otpauth_uri(secret, "fan+x@example.test"))
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == secret and parsed.issuer == "TicketQ"
    assert parsed.name == "fan+x@example.test" and parsed.digits == 6 and parsed.interval == 30
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20


def test_secrets_are_encrypted_and_a_changed_secret_key_cannot_read_them() -> None:
    secret = totp.new_secret()
    stored = totp.encrypt_secret(secret, (KEY,))
    assert secret not in stored
    assert totp.decrypt_secret(stored, (KEY,)) == secret
    assert totp.decrypt_secret(stored, (KEY + "-rotated",)) is None
    assert totp.decrypt_secret(stored, (KEY + "-rotated", KEY)) == secret


def test_recovery_digests_ignore_case_and_dashes_and_differ_per_account() -> None:
    code = totp.new_recovery_code()
    assert len(code) == 11 and code[5] == "-"
    same = totp.recovery_digest(1, code.upper().replace("-", " "), KEY)
    assert totp.recovery_digest(1, code, KEY) == same
    assert totp.recovery_digest(2, code, KEY) != same


async def _account(session: AsyncSession) -> int:
    user = User(email=f"totp-{secrets.token_hex(6)}@example.test", name="T",
                password_hash="unusable")
    session.add(user)
    await session.commit()
    return user.id


async def test_enrolment_confirms_once_and_no_step_is_accepted_twice(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        user_id = await _account(session)
        secret, _ = await totp.begin_enrolment(session, user_id=user_id, email="x@example.test",
                                               now=now, secret_keys=(KEY,))
        assert not await totp.is_enrolled(session, user_id)
        reference = pyotp.TOTP(secret)
        assert await totp.confirm_enrolment(session, user_id=user_id, code="000000" if
                                            reference.at(now) != "000000" else "111111",
                                            now=now, secret_keys=(KEY,)) is None
        assert not await totp.is_enrolled(session, user_id)
        codes = await totp.confirm_enrolment(session, user_id=user_id,
                                             code=reference.at(now - timedelta(seconds=30)),
                                             now=now, secret_keys=(KEY,))
        assert codes is not None and len(set(codes)) == totp.RECOVERY_CODES
        assert await totp.is_enrolled(session, user_id)
        # The confirming step and every one before it are spent.
        for moment in (now - timedelta(seconds=30),):
            assert not await totp.verify(session, user_id=user_id, code=reference.at(moment),
                                         now=now, secret_keys=(KEY,))
        assert await totp.verify(session, user_id=user_id, code=reference.at(now), now=now,
                                 secret_keys=(KEY,))
        assert not await totp.verify(session, user_id=user_id, code=reference.at(now), now=now,
                                     secret_keys=(KEY,))
        # Recovery codes: each once; stored only as digests.
        assert await totp.verify(session, user_id=user_id, code=codes[0], now=now,
                                 secret_keys=(KEY,))
        assert not await totp.verify(session, user_id=user_id, code=codes[0], now=now,
                                     secret_keys=(KEY,))
        assert await totp.remaining_recovery_codes(session, user_id) == totp.RECOVERY_CODES - 1
        stored = list(await session.scalars(select(TotpRecoveryCode.code_hash)
                                            .where(TotpRecoveryCode.user_id == user_id)))
        assert not set(codes) & set(stored)
        row = await session.get(TotpCredential, user_id)
        assert row is not None and secret not in row.secret_encrypted



async def test_a_rotated_secret_key_keeps_authenticators_and_moves_them_to_the_new_key(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    rotated = (KEY + "-new", KEY)
    async with sessionmaker() as session:
        user_id = await _account(session)
        secret, _ = await totp.begin_enrolment(session, user_id=user_id, email="r@example.test",
                                               now=now, secret_keys=(KEY,))
        reference = pyotp.TOTP(secret)
        codes = await totp.confirm_enrolment(session, user_id=user_id,
                                             code=reference.at(now - timedelta(seconds=30)),
                                             now=now, secret_keys=(KEY,))
        assert codes is not None
        # The old key alone is gone: nothing opens (what rotation without the list did).
        assert not await totp.verify(session, user_id=user_id, code=reference.at(now),
                                     now=now, secret_keys=(KEY + "-new",))
        assert await totp.verify(session, user_id=user_id, code=reference.at(now), now=now,
                                 secret_keys=rotated)
        assert await totp.verify(session, user_id=user_id, code=codes[0], now=now,
                                 secret_keys=rotated)
        # Re-encrypted when used: the new key alone opens it from now on.
        later = now + timedelta(seconds=30)
        assert await totp.verify(session, user_id=user_id, code=reference.at(later), now=later,
                                 secret_keys=(KEY + "-new",))


def test_settings_list_the_current_secret_key_first_then_those_being_rotated_out() -> None:
    settings = Settings.from_env({"TICKETQ_SECRET_KEY": "current-key",
                                  "TICKETQ_SECRET_KEY_PREVIOUS": " old-1 ,,old-2"})
    assert settings.secret_keys == ("current-key", "old-1", "old-2")
    assert Settings.from_env({"TICKETQ_SECRET_KEY": "only"}).secret_keys == ("only",)

"""accounts/second_factor.py: the sign-in challenge (signed, bound, expiring, single use)
and the freshness rule, against real Postgres and Redis, codes from pyotp."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import second_factor, sessions, totp
from core.models import User
from core.redis_client import RedisClient
from core.scripts import ScriptRegistry
from core.settings import Settings
from core.signed_fields import CredentialInvalid


@pytest.fixture
def checker(settings: Settings, redis: RedisClient) -> second_factor.Checker:
    return second_factor.Checker(ScriptRegistry(redis), redis, settings)


async def _enrolled(session: AsyncSession, settings: Settings, now: datetime
                    ) -> tuple[int, pyotp.TOTP]:
    user = User(email=f"sf-{secrets.token_hex(6)}@example.test", name="S",
                password_hash="unusable")
    session.add(user)
    await session.commit()
    secret, _ = await totp.begin_enrolment(session, user_id=user.id, email=user.email, now=now,
                                           secret_keys=settings.secret_keys)
    reference = pyotp.TOTP(secret)
    codes = await totp.confirm_enrolment(session, user_id=user.id,
                                         code=reference.at(now - timedelta(seconds=30)),
                                         now=now, secret_keys=settings.secret_keys)
    assert codes is not None
    return user.id, reference


def test_a_challenge_names_its_account_and_refuses_tampering(settings: Settings) -> None:
    challenge = second_factor.issue_challenge(settings, 42)
    user_id, nonce = second_factor.read_challenge(settings, challenge)
    assert user_id == 42 and len(nonce) == 24
    assert second_factor.issue_challenge(settings, 42) != challenge
    with pytest.raises(CredentialInvalid):
        second_factor.read_challenge(settings, "43" + challenge[2:])
    with pytest.raises(CredentialInvalid):
        second_factor.read_challenge(settings.replace(secret_key="x" * 40), challenge)


async def test_a_challenge_is_spent_by_its_first_right_code(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
    checker: second_factor.Checker,
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        user_id, reference = await _enrolled(session, settings, now)
        challenge = second_factor.issue_challenge(settings, user_id)
        assert await second_factor.answer_challenge(session, checker, challenge=challenge,
                                                    code=reference.at(now), now=now) == user_id
        with pytest.raises(second_factor.WrongSignInCode, match="already used"):
            await second_factor.answer_challenge(
                session, checker, challenge=challenge,
                code=reference.at(now + timedelta(seconds=30)), now=now)


async def test_fresh_means_proved_on_this_session_within_the_window(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, redis: RedisClient,
    checker: second_factor.Checker,
) -> None:
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        user_id, reference = await _enrolled(session, settings, now)
        opened = await sessions.open_session(session, user_id=user_id, user_agent="t", now=now)
        session_id = opened.id
        with pytest.raises(second_factor.SecondFactorStale):
            await second_factor.require_fresh(session, checker, user_id=user_id,
                                              session_id=session_id, code=None, now=now)
        await second_factor.require_fresh(session, checker, user_id=user_id,
                                          session_id=session_id, code=reference.at(now), now=now)
        await second_factor.require_fresh(session, checker, user_id=user_id,
                                          session_id=session_id, code=None, now=now)
        later = now + timedelta(seconds=settings.totp_fresh_s + 1)
        with pytest.raises(second_factor.SecondFactorStale):
            await second_factor.require_fresh(session, checker, user_id=user_id,
                                              session_id=session_id, code=None, now=later)


async def test_accounts_without_2fa_need_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], checker: second_factor.Checker,
) -> None:
    async with sessionmaker() as session:
        user = User(email=f"plain-{secrets.token_hex(6)}@example.test", name="P",
                    password_hash="unusable")
        session.add(user)
        await session.commit()
        await second_factor.require_fresh(session, checker, user_id=user.id, session_id=1,
                                          code=None, now=datetime.now(UTC))

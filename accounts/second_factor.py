"""Using the second factor: the sign-in challenge, throttled code checks, and freshness.

- **Challenge.** A password that is right for an account with 2FA earns no token, only a
  challenge: `<user id>~<nonce>` signed with its own salt (core.signed_fields), valid
  `totp_challenge_ttl_s` seconds. It is spent (a Redis SET NX on its nonce) when a code
  is accepted with it, so it signs in once; wrong codes do not spend it, they count
  against the account's failure limit instead.
- **Freshness.** The session that proved the second factor records when
  (`sessions.second_factor_at`). Sensitive actions (cancel an event, refund an order,
  rotate scanner keys) ask accounts with 2FA for a proof within `totp_fresh_s`, or a
  code in the request (the gateway's `X-TOTP-Code` header), which refreshes it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import totp
from core.clock import to_ms
from core.errors import Forbidden, Invalid, NotAuthenticated
from core.models.accounts import SignInSession
from core.redis_client import RedisClient
from core.redis_keys import totp_challenge_used
from core.scripts import ScriptRegistry
from core.settings import Settings
from core.signed_fields import SignedFields, int_field

CHALLENGE_SALT = "ticketq.totp-challenge.v1"
WRONG_CODE = "the two-factor code is wrong or already used"
CHALLENGE_USED = "this sign-in challenge was already used; sign in again"
NEEDS_FRESH = ("confirm it is you: send a current two-factor code in the X-TOTP-Code header "
               "to do this")


class WrongCode(Invalid):
    """A signed-in caller's code did not prove the second factor (422: not a 401, the
    caller is still signed in; not a 403, no right is missing, the code is wrong)."""


class WrongSignInCode(NotAuthenticated):
    """The sign-in step's code did not prove the second factor (401: not signed in)."""


class SecondFactorStale(Forbidden):
    """A sensitive action without a recent second factor."""


@dataclass(frozen=True)
class Checker:
    """What a code check needs: the script registry (limits), Redis, the settings."""

    scripts: ScriptRegistry
    redis: RedisClient
    settings: Settings


def _challenges(settings: Settings) -> SignedFields:
    return SignedFields(settings.secret_key, CHALLENGE_SALT, 2, settings.totp_challenge_ttl_s,
                        "sign-in challenge")


def issue_challenge(settings: Settings, user_id: int) -> str:
    return _challenges(settings).sign(user_id, secrets.token_hex(12))


def read_challenge(settings: Settings, challenge: str) -> tuple[int, str]:
    """(user id, nonce) of a genuine, unexpired challenge; CredentialInvalid (401) or
    CredentialExpired (410) otherwise."""
    user_text, nonce = _challenges(settings).read(challenge)
    return int_field(user_text, "sign-in challenge"), nonce


async def check_code(session: AsyncSession, checker: Checker, *, user_id: int, code: str,
                     now: datetime) -> bool:
    """`totp.verify` under the failure limit (RateLimited before checking)."""
    row = await totp.credential(session, user_id)
    if row is None or row.confirmed_at is None:
        return False
    subject, now_ms = totp.failure_subject(row), to_ms(now)
    await totp.check_attempt_allowed(checker.scripts, checker.settings, subject, now_ms=now_ms)
    if await totp.verify(session, user_id=user_id, code=code, now=now,
                         secret_keys=checker.settings.secret_keys):
        return True
    await totp.record_failure(checker.scripts, checker.settings, subject, now_ms=now_ms)
    return False


async def confirm_enrolment(session: AsyncSession, checker: Checker, *, user_id: int,
                            code: str, now: datetime) -> list[str]:
    """`totp.confirm_enrolment` under the failure limit; WrongCode (nothing changes) if wrong."""
    row = await totp.credential(session, user_id)
    subject = totp.failure_subject(row) if row is not None else str(user_id)
    now_ms = to_ms(now)
    await totp.check_attempt_allowed(checker.scripts, checker.settings, subject, now_ms=now_ms)
    codes = await totp.confirm_enrolment(session, user_id=user_id, code=code, now=now,
                                         secret_keys=checker.settings.secret_keys)
    if codes is None:
        await totp.record_failure(checker.scripts, checker.settings, subject, now_ms=now_ms)
        raise WrongCode(WRONG_CODE)
    return codes


async def answer_challenge(session: AsyncSession, checker: Checker, *, challenge: str,
                           code: str, now: datetime) -> int:
    """The account a challenge and a code prove, spending the challenge. A wrong code or a
    spent challenge is WrongSignInCode (401: sign in again)."""
    user_id, nonce = read_challenge(checker.settings, challenge)
    if not await check_code(session, checker, user_id=user_id, code=code, now=now):
        raise WrongSignInCode(WRONG_CODE)
    spent = await checker.redis.set(totp_challenge_used(user_id, nonce), b"1", nx=True,
                                    ex=checker.settings.totp_challenge_ttl_s)
    if not spent:
        raise WrongSignInCode(CHALLENGE_USED)
    return user_id


async def mark_fresh(session: AsyncSession, *, user_id: int, session_id: int,
                     now: datetime) -> None:
    await session.execute(update(SignInSession)
                          .where(SignInSession.user_id == user_id, SignInSession.id == session_id)
                          .values(second_factor_at=now))
    await session.commit()


async def require_fresh(session: AsyncSession, checker: Checker, *, user_id: int,
                        session_id: int, code: str | None, now: datetime) -> None:
    """Nothing for accounts without 2FA; else a code now, or a proof within `totp_fresh_s`
    by this session (SecondFactorStale otherwise, WrongCode for a wrong code)."""
    if not await totp.is_enrolled(session, user_id):
        return
    if code is not None:
        if not await check_code(session, checker, user_id=user_id, code=code, now=now):
            raise WrongCode(WRONG_CODE)
        await mark_fresh(session, user_id=user_id, session_id=session_id, now=now)
        return
    proved_at = await session.scalar(
        select(SignInSession.second_factor_at)
        .where(SignInSession.user_id == user_id, SignInSession.id == session_id))
    window = timedelta(seconds=checker.settings.totp_fresh_s)
    if proved_at is None or now - proved_at > window:
        raise SecondFactorStale(NEEDS_FRESH)

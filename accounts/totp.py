"""Two-factor authentication: TOTP (RFC 6238) with single-use recovery codes.

The code is the standard library's: RFC 6238 is HMAC-SHA1 over a 30-second step counter
plus RFC 4226's dynamic truncation, twenty lines, and accounts sits below scanner, whose
HOTP (scanner/codes.py) it may not import. A dependency for twenty lines would be one
more thing to pin and audit; the tests check these codes against pyotp, written by others.

- Enrolment: `begin_enrolment` stores a new secret, pending; `confirm_enrolment` turns it
  on once a code from the authenticator app proves the app has it, and returns ten
  recovery codes, shown once, stored as keyed digests.
- Secrets are stored encrypted with Fernet under a key derived (HKDF-SHA256) from
  TICKETQ_SECRET_KEY, so a database dump alone yields no codes. Rotating the secret key
  keeps every authenticator working while the old key is listed in
  TICKETQ_SECRET_KEY_PREVIOUS (`secret_keys`, current first: MultiFernet decrypts with
  any, and a secret opened with an old key is re-encrypted under the current one when
  its code is accepted); dropping the old key before then disables those authenticators.
- A code is accepted for the current step and one either side (clock drift), and only
  for a step after the last one accepted (`last_step`, updated atomically): no replay,
  not even of a code still within its 90 seconds.
- Failures count per account's enrolment (core.rate_limits): after
  `totp_failures_per_account` in a window every code is refused (429 with Retry-After)
  until the window ends, the right one too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote, urlencode

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import Conflict, RateLimited
from core.models import TotpCredential, TotpRecoveryCode
from core.rate_limits import hit
from core.redis_keys import RateKey
from core.scripts import ScriptRegistry
from core.settings import Settings

ISSUER = "TicketQ"
STEP_S = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_CODES = 10
TOO_MANY_CODES = "too many wrong two-factor codes; wait and try again"


def hotp(key: bytes, counter: int) -> str:
    """RFC 4226: HMAC-SHA1 of the big-endian counter, dynamically truncated to 6 digits."""
    mac = hmac.digest(key, struct.pack(">Q", counter), "sha1")
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def step_at(now: datetime) -> int:
    return int(now.timestamp()) // STEP_S


def decode_secret(secret: str) -> bytes:
    """The key of a base32 secret as authenticator apps show it (no padding, any case)."""
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def new_secret() -> str:
    """160 random bits (RFC 4226's recommended key length), base32 without padding."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The step within ±1 of now whose code is `code`, else None (constant-time compares)."""
    if not is_totp_code(code):
        return None  # compare_digest refuses non-ASCII text: never let one reach it
    key = decode_secret(secret)
    current = step_at(now)
    found = None
    for step in range(max(current - DRIFT_STEPS, 0), current + DRIFT_STEPS + 1):
        if hmac.compare_digest(hotp(key, step), code):
            found = step
    return found


def is_totp_code(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def otpauth_uri(secret: str, account: str) -> str:
    """The Key URI Format authenticator apps scan (as a QR code) or accept pasted."""
    query = urlencode({"secret": secret, "issuer": ISSUER, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP_S})
    return f"otpauth://totp/{quote(ISSUER)}:{quote(account)}?{query}"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"ticketq.totp-secret.v1").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _fernets(secret_keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet(key) for key in secret_keys])


def encrypt_secret(secret: str, secret_keys: tuple[str, ...]) -> str:
    """Under the current key (the first)."""
    return _fernets(secret_keys).encrypt(secret.encode()).decode("ascii")


def decrypt_secret(stored: str, secret_keys: tuple[str, ...]) -> str | None:
    """None when none of the keys encrypted it (the secret is then unusable)."""
    try:
        return _fernets(secret_keys).decrypt(stored.encode()).decode("ascii")
    except InvalidToken:
        return None


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def recovery_digest(user_id: int, code: str, secret_key: str) -> str:
    """Keyed and per account, so equal codes of two accounts never share a digest."""
    message = f"{user_id}:{normalise_recovery_code(code)}".encode()
    return hmac.new(secret_key.encode(), b"ticketq.totp-recovery.v1:" + message,
                    hashlib.sha256).hexdigest()


def new_recovery_code() -> str:
    """Ten base32 characters (50 bits) shown as xxxxx-xxxxx."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()[:10]
    return f"{raw[:5]}-{raw[5:]}"


async def credential(session: AsyncSession, user_id: int) -> TotpCredential | None:
    return await session.get(TotpCredential, user_id)


async def is_enrolled(session: AsyncSession, user_id: int) -> bool:
    row = await session.scalar(select(TotpCredential.confirmed_at)
                               .where(TotpCredential.user_id == user_id))
    return row is not None


async def begin_enrolment(session: AsyncSession, *, user_id: int, email: str, now: datetime,
                          secret_keys: tuple[str, ...]) -> tuple[str, str]:
    """A new pending secret (replacing an unconfirmed one) and its otpauth URI."""
    row = await credential(session, user_id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("two-factor authentication is already on; turn it off first")
    secret = new_secret()
    if row is None:
        session.add(TotpCredential(user_id=user_id, secret_encrypted=encrypt_secret(
            secret, secret_keys), created_at=now))
    else:
        row.secret_encrypted, row.created_at, row.last_step = (
            encrypt_secret(secret, secret_keys), now, None)
    await session.commit()
    return secret, otpauth_uri(secret, email)


async def _accept_step(session: AsyncSession, user_id: int, step: int, *,
                       confirm_at: datetime | None = None) -> bool:
    """Record `step` as used unless it (or a later one) already was: one atomic UPDATE, so
    two requests racing with one code cannot both succeed."""
    values: dict[str, object] = {"last_step": step}
    if confirm_at is not None:
        values["confirmed_at"] = confirm_at
    accepted = await session.scalar(
        update(TotpCredential)
        .where(TotpCredential.user_id == user_id,
               or_(TotpCredential.last_step.is_(None), TotpCredential.last_step < step))
        .values(**values).returning(TotpCredential.user_id))
    return accepted is not None


async def confirm_enrolment(session: AsyncSession, *, user_id: int, code: str, now: datetime,
                            secret_keys: tuple[str, ...]) -> list[str] | None:
    """Turn 2FA on if `code` matches the pending secret: the recovery codes, else None."""
    row = await credential(session, user_id)
    if row is None:
        raise Conflict("start with POST /api/me/totp to get a secret first")
    if row.confirmed_at is not None:
        raise Conflict("two-factor authentication is already on")
    secret = decrypt_secret(row.secret_encrypted, secret_keys)
    step = matching_step(secret, code, now) if secret is not None else None
    if step is None or not await _accept_step(session, user_id, step, confirm_at=now):
        await session.rollback()
        return None
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    await session.execute(delete(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user_id))
    session.add_all(TotpRecoveryCode(user_id=user_id,
                                     code_hash=recovery_digest(user_id, c, secret_keys[0]))
                    for c in codes)
    audit.record(session, actor_user_id=user_id, action="account.totp.enable",
                 subject_type="user", subject_id=user_id)
    await session.commit()
    return codes


async def verify(session: AsyncSession, *, user_id: int, code: str, now: datetime,
                 secret_keys: tuple[str, ...]) -> bool:
    """Whether `code` (a 6-digit TOTP code or an unused recovery code) proves the enrolled
    second factor; an accepted one is used up (committed) before this returns."""
    row = await credential(session, user_id)
    if row is None or row.confirmed_at is None:
        return False
    cleaned = code.strip()
    if is_totp_code(cleaned):
        secret = decrypt_secret(row.secret_encrypted, secret_keys)
        step = matching_step(secret, cleaned, now) if secret is not None else None
        accepted = step is not None and await _accept_step(session, user_id, step)
        if accepted and secret is not None and len(secret_keys) > 1:
            # Rotation: from now on the current key alone opens it.
            row.secret_encrypted = encrypt_secret(secret, secret_keys)
    else:
        digests = [recovery_digest(user_id, cleaned, key) for key in secret_keys]
        used = await session.scalar(
            update(TotpRecoveryCode)
            .where(TotpRecoveryCode.user_id == user_id,
                   TotpRecoveryCode.code_hash.in_(digests),
                   TotpRecoveryCode.used_at.is_(None))
            .values(used_at=now).returning(TotpRecoveryCode.code_hash))
        accepted = used is not None
    await session.commit()
    return accepted


async def disable(session: AsyncSession, *, user_id: int) -> None:
    """Forget the secret and the recovery codes (the caller has just verified a code).
    Turning 2FA on and off are audit entries (`account.totp.enable|disable`)."""
    await session.execute(delete(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user_id))
    await session.execute(delete(TotpCredential).where(TotpCredential.user_id == user_id))
    audit.record(session, actor_user_id=user_id, action="account.totp.disable",
                 subject_type="user", subject_id=user_id)
    await session.commit()


async def remaining_recovery_codes(session: AsyncSession, user_id: int) -> int:
    rows = await session.scalars(select(TotpRecoveryCode.code_hash)
                                 .where(TotpRecoveryCode.user_id == user_id,
                                        TotpRecoveryCode.used_at.is_(None)))
    return len(list(rows))


def failure_subject(row: TotpCredential) -> str:
    """Failures count per enrolment (account id and enrolment time): only someone already
    past the second factor can start a new enrolment, and account ids stay unique even
    where a test database restarts them beside a Redis that remembers."""
    return f"{row.user_id}-{int(row.created_at.timestamp() * 1000)}"


async def check_attempt_allowed(scripts: ScriptRegistry, settings: Settings, subject: str, *,
                                now_ms: int) -> None:
    """RateLimited (429) once the enrolment has taken its wrong codes this window."""
    limit = settings.totp_failures_per_account
    # A hit costing more than the limit counts nothing: this reads the failures so far.
    failures = await hit(scripts, RateKey("totp-account", subject), limit=limit,
                         window_s=settings.totp_failure_window_s, now_ms=now_ms, cost=limit + 1)
    if failures.remaining == 0:
        raise RateLimited(TOO_MANY_CODES, retry_after_s=failures.retry_after_s)


async def record_failure(scripts: ScriptRegistry, settings: Settings, subject: str, *,
                         now_ms: int) -> None:
    await hit(scripts, RateKey("totp-account", subject),
              limit=settings.totp_failures_per_account,
              window_s=settings.totp_failure_window_s, now_ms=now_ms)

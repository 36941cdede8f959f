"""Email address verification: the signed link a new account is mailed, and what it proves.

A verification token is `<user id>~<email digest>~<nonce>.<timestamp>.<signature>`
(core.signed_fields, its own salt), valid for `TICKETQ_EMAIL_VERIFY_TTL_SECONDS`. The
nonce makes every link distinct, so a resend in the same second as the sign-up is a new
mail (the outbox dedupes by link) rather than silently the same one.

- Bound to the account *and* its address: the digest is of the normalised email the
  link was sent to, so a link mailed to an old address is refused once the account's
  email changes (CredentialForeign, 403).
- Single use in effect: verifying stamps `email_verified_at` once; the same link again
  answers "verified" and changes nothing, so a link opened twice is harmless.
- Forged or another kind's token: CredentialInvalid (401); too old: CredentialExpired (410).

The link carries the token in its fragment (`/verify-email#token=...`): browsers never
send a fragment to the server, so it stays out of access logs and Referer headers, and
the page's script POSTs it (a GET that verified would be triggered by mail scanners that
pre-fetch links). docs/security.md, "Email verification".
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden
from core.models import User
from core.rate_limits import check_rate
from core.redis_keys import RateKey
from core.scripts import ScriptRegistry
from core.settings import Settings
from core.signed_fields import CredentialForeign, CredentialInvalid, SignedFields

VERIFY_EMAIL_SALT = "ticketq.verify-email.v1"
RESEND_WINDOW_S = 3600
TOO_MANY_RESENDS = "too many verification emails for this account; wait and try again"


class EmailNotVerified(Forbidden):
    """The account has not verified its email, and what it asked for needs it."""


def email_digest(email: str) -> str:
    # A digest, not the address: the token is signed, not encrypted, and an address may
    # hold the field separator `~`.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def mask_email(email: str) -> str:
    """`fan@example.com` -> `f***@example.com`: enough to recognise, little to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


@dataclass(frozen=True)
class VerifyTokens:
    secret_key: str
    ttl_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> VerifyTokens:
        return cls(settings.secret_key, settings.email_verify_ttl_seconds)

    def _kind(self) -> SignedFields:
        return SignedFields(self.secret_key, VERIFY_EMAIL_SALT, 3, self.ttl_seconds,
                            "verification link")

    def issue(self, user: User) -> str:
        return self._kind().sign(user.id, email_digest(user.email), secrets.token_hex(4))

    def read(self, token: str) -> tuple[int, str]:
        """(user id, email digest) of a genuine, unexpired verification token."""
        user_id, digest, _nonce = self._kind().read(token)
        if not (user_id.isascii() and user_id.isdigit()) or len(user_id) > 18:
            raise CredentialInvalid("this verification link is not one we issued")
        return int(user_id), digest


def link_base(settings: Settings) -> str:
    """Where mailed links point: TICKETQ_PUBLIC_URL, else the gateway's own address.

    Never the request's Host header: anyone can send one, and a sign-up with a forged
    Host would mail the victim a link (and its token) to the attacker's site."""
    if settings.public_url:
        return str(settings.public_url).rstrip("/")
    host = "localhost" if settings.host in {"0.0.0.0", "::"} else settings.host  # noqa: S104
    return f"http://{host}:{settings.port}"


def verify_url(base: str, token: str) -> str:
    return f"{base}/verify-email#token={token}"


async def verify_email(session: AsyncSession, *, token: str, tokens: VerifyTokens,
                       now: datetime) -> User:
    """Mark the account the token names verified (once; again is a no-op) and return it."""
    user_id, digest = tokens.read(token)
    user = await session.get(User, user_id)
    if user is None:
        raise CredentialInvalid("this verification link is not one we issued")
    if digest != email_digest(user.email):
        raise CredentialForeign("this link was sent to an address the account no longer uses; "
                                "ask for a new one")
    if user.email_verified_at is None:
        user.email_verified_at = now
        await session.commit()
    return user


async def check_resend_allowed(scripts: ScriptRegistry, settings: Settings, user_id: int, *,
                               now_ms: int) -> None:
    """RateLimited (429) past `TICKETQ_VERIFY_RESENDS_PER_HOUR` for this account."""
    await check_rate(scripts, RateKey("verify-resend", str(user_id)),
                     limit=settings.verify_resends_per_hour, window_s=RESEND_WINDOW_S,
                     now_ms=now_ms, detail=TOO_MANY_RESENDS)


async def require_verified(session: AsyncSession, user_id: int, *, wants: str) -> None:
    """EmailNotVerified (403) naming where the link went, unless the account is verified."""
    user = await session.get(User, user_id)
    if user is None:
        raise EmailNotVerified(f"Verify your email address to {wants}")
    if user.email_verified_at is not None:
        return
    raise EmailNotVerified(f"Verify your email address to {wants}; we sent a link to "
                           f"{mask_email(user.email)}")

"""Password reset by an emailed link: single use, expiring, bound to the current password.

A reset token is `<user id>~<password binding>~<nonce>.<timestamp>.<signature>`
(core.signed_fields, its own salt), valid for `TICKETQ_PASSWORD_RESET_TTL_SECONDS`
(30 minutes). The binding is an HMAC, under the secret key, of the account's current
password hash. Setting a password (by this reset or a change) writes a new hash with a
new salt, so every link issued before no longer matches: that is what makes a link
single use, and what voids older links after a change, with no table of used tokens.
Deleting an account makes its hash unusable, which voids its links too.

- Forged, another kind's, used or superseded token: ResetLinkInvalid (400).
- Too old: ResetLinkExpired (410).
- Either way the password is unchanged.

Asking for a link answers the same whether or not the email has an account (the
gateway says 202 to both); limits per client address and per email address
(`TICKETQ_PASSWORD_RESET_PER_*_PER_HOUR`) count both kinds alike, so a 429 says
nothing about the address either. docs/accounts.md, "Password reset".
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.limits import Client
from accounts.passwords import hash_password_off_loop
from accounts.users import normalise_email
from core.errors import DomainError, Gone
from core.models import User
from core.rate_limits import check_rate
from core.redis_keys import RateKey
from core.scripts import ScriptRegistry
from core.settings import Settings
from core.signed_fields import CredentialExpired, CredentialInvalid, SignedFields

RESET_SALT = "ticketq.password-reset.v1"
REQUEST_WINDOW_S = 3600
TOO_MANY_RESETS = "too many password reset requests; wait and try again"
NOT_OURS = ("this reset link is not valid: it was used already, a newer password "
            "replaced it, or it is not one we sent; ask for a new one")
# What the gateway hands over to mail the link (mail sits above accounts).
SendLink = Callable[[AsyncSession, User, str], Awaitable[None]]


class ResetLinkInvalid(DomainError):
    """Forged, used or superseded reset link (400: the request is bad, not the caller)."""


class ResetLinkExpired(Gone):
    """A genuine reset link past its lifetime (410)."""


def _binding(secret_key: str, password_hash: str) -> str:
    # Keyed, so the token (signed, not encrypted) says nothing checkable about the hash.
    key = hashlib.sha256(f"{RESET_SALT}:{secret_key}".encode()).digest()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class ResetTokens:
    secret_key: str
    ttl_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ResetTokens:
        return cls(settings.secret_key, settings.password_reset_ttl_seconds)

    def _kind(self) -> SignedFields:
        return SignedFields(self.secret_key, RESET_SALT, 3, self.ttl_seconds,
                            "password reset link")

    def issue(self, user: User) -> str:
        return self._kind().sign(user.id, _binding(self.secret_key, user.password_hash),
                                 secrets.token_hex(4))

    def read(self, token: str) -> tuple[int, str]:
        """(user id, password binding) of a genuine, unexpired reset token."""
        try:
            user_id, binding, _nonce = self._kind().read(token)
        except CredentialExpired as exc:
            raise ResetLinkExpired("this reset link has expired; ask for a new one") from exc
        except CredentialInvalid as exc:
            raise ResetLinkInvalid(NOT_OURS) from exc
        if not (user_id.isascii() and user_id.isdigit()) or len(user_id) > 18:
            raise ResetLinkInvalid(NOT_OURS)
        return int(user_id), binding

    def matches(self, user: User, binding: str) -> bool:
        return hmac.compare_digest(binding, _binding(self.secret_key, user.password_hash))


def reset_url(base: str, token: str) -> str:
    # The issue's contract: `/reset?token=...`. The gateway's log filter blanks `token`
    # query values, and the page's script drops the query from the address bar.
    return f"{base}/reset?token={token}"


def _address_subject(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


async def check_request_allowed(scripts: ScriptRegistry, settings: Settings, client: Client,
                                email: str, *, now_ms: int) -> None:
    """RateLimited (429) past the per-address-of-client or per-email hourly limit."""
    if not client.exempt(settings):
        await check_rate(scripts, RateKey("reset-ip", client.subject()),
                         limit=settings.password_reset_per_ip_per_hour,
                         window_s=REQUEST_WINDOW_S, now_ms=now_ms, detail=TOO_MANY_RESETS)
    await check_rate(scripts, RateKey("reset-address", _address_subject(normalise_email(email))),
                     limit=settings.password_reset_per_address_per_hour,
                     window_s=REQUEST_WINDOW_S, now_ms=now_ms, detail=TOO_MANY_RESETS)


async def request_reset(session: AsyncSession, *, email: str, tokens: ResetTokens,
                        send: SendLink) -> bool:
    """Mail a reset link if `email` has an account (in this transaction); whether it had."""
    user = await session.scalar(select(User).where(func.lower(User.email) ==
                                                   normalise_email(email)))
    if user is None:
        return False
    await send(session, user, tokens.issue(user))
    await session.commit()
    return True


async def confirm_reset(session: AsyncSession, *, token: str, new_password: str,
                        tokens: ResetTokens, now: datetime) -> User:
    """Set the password the link's holder chose; the caller revokes every session.

    The account row is locked, so of two uses of one link at once the second sees the
    new hash and is refused."""
    user_id, binding = tokens.read(token)
    user = await session.get(User, user_id, with_for_update=True)
    if user is None or not tokens.matches(user, binding):
        await session.rollback()
        raise ResetLinkInvalid(NOT_OURS)
    user.password_hash = await hash_password_off_loop(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = now  # following the mailed link proves the address too
    await session.commit()
    return user

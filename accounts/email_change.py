"""Changing the account's email: the new address must prove itself before it is the one.

1. `request_change` (password checked by the caller): the new address is kept in Redis
   for the verification TTL (`core.redis_keys.email_change_pending`; a newer request
   replaces it), and the caller mails the NEW address a link and the OLD one a notice
   (no link; mail/causes.py, a layer above accounts).
   If the new address already belongs to another account, the answer is the same and
   the old address is still notified, but no link is sent and that account is untouched:
   the requester learns nothing about who holds which address.
2. `confirm_change` with the link's token: `<user id>~<new email digest>~<current email
   digest>~<nonce>` signed by accounts/verification.py's signer under its own salt (so a
   sign-up verification link is not an email-change link, nor the reverse). The token
   must match the pending request (only the latest link works), and the account must
   still have the address it had when asking. Then the email changes and
   `email_verified_at` is now. Sessions are kept: the password did not change and the
   person confirming holds both a session and the new inbox (docs/accounts.md).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.users import normalise_email
from accounts.verification import email_digest, link_base
from core.errors import Conflict
from core.models import User
from core.rate_limits import check_rate
from core.redis_client import RedisClient
from core.redis_keys import RateKey, email_change_pending
from core.scripts import ScriptRegistry
from core.settings import Settings
from core.signed_fields import CredentialForeign, CredentialInvalid, SignedFields, int_field

EMAIL_CHANGE_SALT = "ticketq.email-change.v1"
WINDOW_S = 3600
TOO_MANY = "too many email changes asked for this account; wait and try again"


class AddressTaken(Conflict):
    """At confirmation, the new address has become another account's (409)."""


@dataclass(frozen=True)
class ChangeTokens:
    secret_key: str
    ttl_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ChangeTokens:
        return cls(settings.secret_key, settings.email_verify_ttl_seconds)

    def _kind(self) -> SignedFields:
        return SignedFields(self.secret_key, EMAIL_CHANGE_SALT, 4, self.ttl_seconds,
                            "email change link")

    def issue(self, user: User, new_email: str) -> str:
        return self._kind().sign(user.id, email_digest(new_email), email_digest(user.email),
                                 secrets.token_hex(4))

    def read(self, token: str) -> tuple[int, str, str]:
        """(user id, new email digest, old email digest) of a genuine, unexpired token."""
        user_id, new_digest, old_digest, _nonce = self._kind().read(token)
        return int_field(user_id, "email change link"), new_digest, old_digest


def confirm_url(base: str, token: str) -> str:
    return f"{base}/confirm-email#token={token}"


async def check_allowed(scripts: ScriptRegistry, settings: Settings, user_id: int, *,
                        now_ms: int) -> None:
    """RateLimited (429) past `TICKETQ_VERIFY_RESENDS_PER_HOUR` requests for this account."""
    await check_rate(scripts, RateKey("email-change", str(user_id)),
                     limit=settings.verify_resends_per_hour, window_s=WINDOW_S,
                     now_ms=now_ms, detail=TOO_MANY)


async def _address_taken(session: AsyncSession, email: str, user_id: int) -> bool:
    holder = await session.scalar(select(User.id).where(func.lower(User.email) == email))
    return holder is not None and holder != user_id


@dataclass(frozen=True)
class ChangeAsked:
    """What to mail (the caller enqueues it, mail being a layer above accounts)."""

    user: User
    new_email: str
    confirm_url: str
    address_taken: bool  # another account's: notify the old address only, send no link


async def request_change(session: AsyncSession, redis: RedisClient, *, user_id: int,
                         new_email: str, settings: Settings) -> ChangeAsked | None:
    """Keep the request pending (unless the address is taken) and say what to mail;
    the account changes nothing yet. None if the account is gone."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    new_email = normalise_email(new_email)
    tokens = ChangeTokens.from_settings(settings)
    url = confirm_url(link_base(settings), tokens.issue(user, new_email))
    taken = await _address_taken(session, new_email, user_id)
    if not taken:
        await redis.set(email_change_pending(user_id), new_email, ex=tokens.ttl_seconds)
    return ChangeAsked(user, new_email, url, address_taken=taken)


async def confirm_change(session: AsyncSession, redis: RedisClient, *, token: str,
                         settings: Settings, now: datetime) -> User:
    """Make the pending new address the account's email (verified now) and return it."""
    user_id, new_digest, old_digest = ChangeTokens.from_settings(settings).read(token)
    user = await session.get(User, user_id)
    if user is None:
        raise CredentialInvalid("this email change link is not one we issued")
    if hmac.compare_digest(email_digest(user.email), new_digest):
        return user  # this link, opened again: already done, nothing changes
    pending = await redis.get(email_change_pending(user_id))
    pending_email = pending.decode() if isinstance(pending, bytes) else pending
    if not pending_email or not hmac.compare_digest(email_digest(pending_email), new_digest):
        raise CredentialForeign("this link is not the account's latest email change; "
                                "ask for a new one")
    if not hmac.compare_digest(email_digest(user.email), old_digest):
        raise CredentialForeign("the account's email changed since this link was sent; "
                                "ask for a new one")
    if await _address_taken(session, pending_email, user_id):
        raise AddressTaken("that address now belongs to another account; the email is "
                           "unchanged", reason="address_taken")
    user.email = pending_email
    user.email_verified_at = now
    try:
        await session.commit()
    except IntegrityError as exc:  # another account took it between the check and now
        await session.rollback()
        raise AddressTaken("that address now belongs to another account; the email is "
                           "unchanged", reason="address_taken") from exc
    await redis.delete(email_change_pending(user_id))
    return user

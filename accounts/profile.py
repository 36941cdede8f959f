"""The account's own profile: its name, and the provider identities linked to it.

Unlinking refuses to take away the only way to sign in: an account made by "Sign in with
Google" has no password (accounts/oidc_accounts.py NO_PASSWORD), so it must set one first,
by password reset, before its last identity can go (409 `last_sign_in_method`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, NotFound
from core.models import OidcIdentity, User

PASSWORD_SCHEME = "scrypt$"  # accounts/passwords.py: every real password hash starts so


class LastSignInMethod(Conflict):
    """Unlinking would leave the account with no way to sign in (409)."""


class NoPassword(Conflict):
    """What was asked needs the account's password, and it has none yet (409)."""


@dataclass(frozen=True)
class LinkedIdentity:
    provider: str
    linked_at: datetime


def has_password(user: User) -> bool:
    return user.password_hash.startswith(PASSWORD_SCHEME)


async def has_password_for(session: AsyncSession, user_id: int) -> bool:
    password_hash = await session.scalar(select(User.password_hash).where(User.id == user_id))
    return password_hash is not None and password_hash.startswith(PASSWORD_SCHEME)


async def rename(session: AsyncSession, user_id: int, name: str) -> User:
    """Set the account's display name (already validated: 1-200 characters, trimmed)."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("this account no longer exists")
    user.name = name
    await session.commit()
    return user


async def linked_identities(session: AsyncSession, user_id: int) -> list[LinkedIdentity]:
    rows = await session.execute(
        select(OidcIdentity.provider, OidcIdentity.created_at)
        .where(OidcIdentity.user_id == user_id).order_by(OidcIdentity.provider))
    return [LinkedIdentity(provider, linked_at) for provider, linked_at in rows]


async def unlink(session: AsyncSession, user_id: int, provider: str) -> None:
    """Remove the account's identity at `provider`, unless it is the last way in.

    Takes a session with no transaction begun (it runs its own, locking the account)."""
    async with session.begin():
        # Lock the account row: two unlinks at once must not each see the other's link.
        user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
        if user is None:
            raise NotFound("this account no longer exists")
        links = await session.scalar(select(func.count()).select_from(OidcIdentity).where(
            OidcIdentity.user_id == user_id))
        linked = await session.scalar(select(OidcIdentity.subject).where(
            OidcIdentity.user_id == user_id, OidcIdentity.provider == provider))
        if linked is None:
            raise NotFound(f"this account has no linked {provider} account")
        if not has_password(user) and (links or 0) <= 1:
            raise LastSignInMethod(
                f"your {provider} account is the only way you sign in; set a password first "
                "(use \"Forgot your password?\" on the sign-in page), then unlink it",
                reason="last_sign_in_method")
        await session.execute(delete(OidcIdentity).where(
            OidcIdentity.user_id == user_id, OidcIdentity.provider == provider))

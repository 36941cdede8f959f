"""Which TicketQ account a verified OpenID Connect identity signs in to.

1. An identity linked before (`oidc_identities`, by provider and `sub`) signs in to its
   account, whatever its email says today.
2. Otherwise only an email the provider has verified (`email_verified` true) may link:
   to the account with that email, or to a new account (verified: the provider checked
   the address). An unverified claim never touches an existing account.
3. Linking to an account whose email was never verified wipes its password: whoever
   chose it never proved the address, and might be someone who signed up with the
   victim's email first to wait for them ("pre-account takeover"). The caller signs that
   account's sessions out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.oidc import Identity
from accounts.users import normalise_email
from core.errors import Conflict, Forbidden
from core.models import OidcIdentity, Role, User

# Never a valid scrypt hash (accounts.passwords.verify_password answers False for it).
NO_PASSWORD = "!oidc:no-password"
MAX_EMAIL = 320


class EmailNotVerified(Forbidden):
    """The provider has not verified the email it names (403)."""


class AlreadyLinked(Conflict):
    """The account is linked to another identity at this provider (409)."""


@dataclass(frozen=True)
class SignedIn:
    user: User
    created: bool  # a new account
    password_wiped: bool  # an unverified account's password was removed (sign it out)


async def _linked_user(db: AsyncSession, identity: Identity) -> User | None:
    link = await db.get(OidcIdentity, (identity.provider, identity.subject))
    return None if link is None else await db.get(User, link.user_id)


async def _user_for_email(db: AsyncSession, email: str, name: str, now: datetime
                          ) -> tuple[User, bool]:
    user = await db.scalar(select(User).where(func.lower(User.email) == email))
    if user is not None:
        return user, False
    # ON CONFLICT DO NOTHING: two first sign-ins at once make one account.
    new_id = await db.scalar(
        insert(User).values(email=email, name=name, password_hash=NO_PASSWORD, role=Role.FAN,
                            email_verified_at=now)
        .on_conflict_do_nothing(index_elements=[User.email]).returning(User.id))
    user = await db.scalar(select(User).where(func.lower(User.email) == email))
    assert user is not None  # inserted now, or by the sign-in we raced
    return user, new_id is not None


async def sign_in_identity(db: AsyncSession, identity: Identity, *, now: datetime) -> SignedIn:
    """The account `identity` signs in to, linking or creating it (committed)."""
    try:
        return await _sign_in(db, identity, now)
    except IntegrityError:
        # The same identity's first sign-in raced another (two tabs): its link now exists.
        await db.rollback()
        linked = await _linked_user(db, identity)
        if linked is None:
            raise
        return SignedIn(linked, created=False, password_wiped=False)


async def _sign_in(db: AsyncSession, identity: Identity, now: datetime) -> SignedIn:
    linked = await _linked_user(db, identity)
    if linked is not None:
        return SignedIn(linked, created=False, password_wiped=False)
    if not identity.email_verified or not identity.email or len(identity.email) > MAX_EMAIL:
        raise EmailNotVerified(
            f"your {identity.provider} account has no verified email; verify it there, "
            "or sign in with your password", reason="email_not_verified")
    email = normalise_email(identity.email)
    name = (identity.name or email.split("@")[0])[:200]
    user, created = await _user_for_email(db, email, name, now)
    other = await db.scalar(select(OidcIdentity).where(
        OidcIdentity.user_id == user.id, OidcIdentity.provider == identity.provider))
    if other is not None and other.subject == identity.subject:
        # This identity's own link, committed by a sign-in that raced this one.
        return SignedIn(user, created=False, password_wiped=False)
    if other is not None:
        await db.rollback()
        raise AlreadyLinked(f"this account is linked to another {identity.provider} account",
                            reason="already_linked")
    wiped = user.email_verified_at is None
    if wiped:
        user.password_hash = NO_PASSWORD
        user.email_verified_at = now
    db.add(OidcIdentity(provider=identity.provider, subject=identity.subject, user_id=user.id,
                        created_at=now))
    await db.commit()
    return SignedIn(user, created=created, password_wiped=wiped)

"""Sign-up, sign-in and password changes.

Hashing runs off the event loop (accounts.passwords), and sign-in is throttled per
address and per account before any hash is computed (accounts.limits).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import limits
from accounts.passwords import DUMMY_HASH, hash_password_off_loop, verify_password_off_loop
from core.clock import to_ms
from core.errors import Conflict, Forbidden, NotAuthenticated
from core.models import Role, User
from core.scripts import ScriptRegistry
from core.settings import Settings

WRONG_CREDENTIALS = "wrong email or password"
# What else a new account's transaction writes (the gateway enqueues the verification
# mail with it: mail sits above accounts, so accounts only hands over the session).
OnCreated = Callable[[AsyncSession, User], Awaitable[None]]


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def sign_up(
    session: AsyncSession, *, email: str, password: str, name: str, role: str = Role.FAN,
    on_created: OnCreated | None = None,
) -> User:
    """A new account; Conflict when the email has one (the gateway does not say so: see
    gateway.accounts_api.signup). The existing account is left exactly as it was.
    `on_created` runs in the same transaction, before the commit, for new accounts only.

    ON CONFLICT DO NOTHING rather than catching a unique violation: Postgres names the
    duplicate key (the email) in that error's DETAIL, and an error can end up in a log."""
    password_hash = await hash_password_off_loop(password)
    user_id = await session.scalar(
        insert(User)
        .values(email=normalise_email(email), name=name, password_hash=password_hash, role=role)
        .on_conflict_do_nothing(index_elements=[User.email])
        .returning(User.id)
    )
    if user_id is None:
        await session.rollback()
        raise Conflict("an account with this email already exists; sign in instead")
    user = await session.get(User, user_id)
    assert user is not None  # just inserted, in this session's view
    if on_created is not None:
        await on_created(session, user)
    await session.commit()
    return user


@dataclass(frozen=True)
class Throttle:
    """What sign-in needs to count attempts: the script registry, the limits, the caller."""

    scripts: ScriptRegistry
    settings: Settings
    client: limits.Client


async def authenticate(session: AsyncSession, *, email: str, password: str,
                       throttle: Throttle, now: datetime) -> User:
    """The account these credentials prove, or NotAuthenticated (the same for unknown
    emails and wrong passwords); RateLimited before any hashing when over a limit.
    Ends the session's transaction before hashing: call it with nothing pending."""
    email = normalise_email(email)
    now_ms = to_ms(now)
    await limits.check_signin_allowed(throttle.scripts, throttle.settings, throttle.client,
                                      email, now_ms=now_ms)
    user = await session.scalar(select(User).where(func.lower(User.email) == email))
    stored = user.password_hash if user is not None else DUMMY_HASH
    # The read's connection goes back to the pool before the hash, which may first queue
    # for a hashing thread: in a burst of sign-ins, each holding a connection while it
    # waited took the whole pool from holds and checkouts. (Nothing was written; the
    # session keeps `user`, expire_on_commit being off, and begins anew when next used.)
    await session.commit()
    if not await verify_password_off_loop(password, stored) or user is None:
        # Unknown emails count too, so they answer exactly like known ones.
        await limits.record_signin_failure(throttle.scripts, throttle.settings, email,
                                           now_ms=now_ms)
        raise NotAuthenticated(WRONG_CREDENTIALS)
    return user


async def change_password(session: AsyncSession, *, user_id: int, current_password: str,
                          new_password: str, throttle: Throttle, now: datetime) -> User:
    """Replace the password once the current one is proven (throttled like sign-in).

    The caller revokes the account's other sessions (accounts.sessions.revoke_all)."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotAuthenticated("this account no longer exists; sign in again")
    try:
        await authenticate(session, email=user.email, password=current_password,
                           throttle=throttle, now=now)
    except NotAuthenticated as exc:
        # 403, not 401: the caller is signed in, and must not be told otherwise.
        raise Forbidden("the current password is wrong") from exc
    user.password_hash = await hash_password_off_loop(new_password)
    await session.commit()
    return user

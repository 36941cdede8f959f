"""Sign-up and sign-in."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.passwords import DUMMY_HASH, hash_password, verify_password
from core.errors import Conflict, NotAuthenticated
from core.models import Role, User


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def sign_up(
    session: AsyncSession, *, email: str, password: str, name: str, role: str = Role.FAN
) -> User:
    user = User(
        email=normalise_email(email), name=name, password_hash=hash_password(password), role=role
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict("an account with this email already exists; sign in instead") from exc
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    user = await session.scalar(
        select(User).where(func.lower(User.email) == normalise_email(email))
    )
    stored = user.password_hash if user is not None else DUMMY_HASH
    if not verify_password(password, stored) or user is None:
        raise NotAuthenticated("wrong email or password")
    return user

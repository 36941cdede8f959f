"""accounts/profile.py against Postgres: renaming, listing links, the unlinking rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import profile
from accounts.oidc_accounts import NO_PASSWORD
from accounts.passwords import hash_password
from core.errors import NotFound
from core.models import OidcIdentity, User
from tests.support.api import unique_email


async def _account(maker: async_sessionmaker[AsyncSession], *, password: bool) -> int:
    async with maker() as session:
        user = User(email=unique_email("profile"), name="Fan", role="fan",
                    password_hash=hash_password("a long password") if password else NO_PASSWORD)
        session.add(user)
        await session.flush()
        session.add(OidcIdentity(provider="google", subject=f"sub-{user.email}",
                                 user_id=user.id, created_at=datetime.now(UTC)))
        await session.commit()
        return user.id


async def test_renaming_and_listing(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    user_id = await _account(sessionmaker, password=True)
    async with sessionmaker() as session:
        assert (await profile.rename(session, user_id, "Ada")).name == "Ada"
        [link] = await profile.linked_identities(session, user_id)
        assert link.provider == "google" and link.linked_at.tzinfo is not None
        with pytest.raises(NotFound):
            await profile.rename(session, 0, "Nobody")


async def test_the_last_link_of_an_account_without_password_stays(
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    user_id = await _account(sessionmaker, password=False)
    async with sessionmaker() as session:
        with pytest.raises(profile.LastSignInMethod):
            await profile.unlink(session, user_id, "google")
    async with sessionmaker() as session:
        assert len(await profile.linked_identities(session, user_id)) == 1
        await session.execute(update(User).where(User.id == user_id)
                              .values(password_hash=hash_password("now it has one")))
        await session.commit()
    async with sessionmaker() as session:
        await profile.unlink(session, user_id, "google")
    async with sessionmaker() as session:
        assert await session.scalar(select(OidcIdentity).where(
            OidcIdentity.user_id == user_id)) is None
    async with sessionmaker() as session:
        with pytest.raises(NotFound):
            await profile.unlink(session, user_id, "google")

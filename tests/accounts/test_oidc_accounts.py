"""Which account a verified identity signs in to, in the real database: a link wins, a
verified email links or creates, an unverified one touches nothing, and linking an
unverified password account wipes the password nobody proved."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import oidc_accounts
from accounts.oidc import Identity
from accounts.passwords import hash_password
from core.models import OidcIdentity, User
from tests.support.api import unique_email

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _identity(email: str, *, verified: bool = True, subject: str | None = None) -> Identity:
    return Identity("google", subject or f"sub-{email}", email, verified, "Tester", 2**40)


async def _user(db: AsyncSession, email: str, *, verified: bool) -> User:
    user = User(email=email, name="Pw", password_hash=hash_password("correct horse battery"),
                email_verified_at=NOW if verified else None)
    db.add(user)
    await db.commit()
    return user


async def _links(db: AsyncSession, user_id: int) -> list[str]:
    rows = await db.scalars(select(OidcIdentity.subject).where(OidcIdentity.user_id == user_id))
    return list(rows)


async def test_a_new_verified_email_makes_a_verified_account_without_a_password(
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    email = unique_email("link-new")
    async with sessionmaker() as db:
        signed = await oidc_accounts.sign_in_identity(db, _identity(email.upper()), now=NOW)
        assert signed.created and not signed.password_wiped
        assert signed.user.email == email and signed.user.email_verified_at == NOW
        assert signed.user.password_hash == oidc_accounts.NO_PASSWORD
        assert await _links(db, signed.user.id) == [f"sub-{email.upper()}"]


async def test_a_verified_account_is_linked_and_keeps_its_password(
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    email = unique_email("link-verified")
    async with sessionmaker() as db:
        user = await _user(db, email, verified=True)
        stored = user.password_hash
        signed = await oidc_accounts.sign_in_identity(db, _identity(email), now=NOW)
        assert (signed.user.id, signed.created, signed.password_wiped) == (user.id, False, False)
        await db.refresh(user)
        assert user.password_hash == stored


async def test_an_unverified_account_is_linked_and_its_password_wiped(
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    email = unique_email("link-unverified")
    async with sessionmaker() as db:
        user = await _user(db, email, verified=False)
        signed = await oidc_accounts.sign_in_identity(db, _identity(email), now=NOW)
        assert signed.user.id == user.id and signed.password_wiped
        await db.refresh(user)
        assert user.password_hash == oidc_accounts.NO_PASSWORD
        assert user.email_verified_at == NOW


async def test_an_unverified_claim_changes_nothing(
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    email = unique_email("link-claim")
    async with sessionmaker() as db:
        user = await _user(db, email, verified=False)
        stored = user.password_hash
        with pytest.raises(oidc_accounts.EmailNotVerified):
            await oidc_accounts.sign_in_identity(db, _identity(email, verified=False), now=NOW)
        await db.refresh(user)
        assert user.password_hash == stored and user.email_verified_at is None
        assert await _links(db, user.id) == []


async def test_a_link_wins_over_the_email_and_one_link_per_provider(
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    email = unique_email("link-first")
    s1, s2 = f"s1-{email}", f"s2-{email}"
    async with sessionmaker() as db:
        first = await oidc_accounts.sign_in_identity(db, _identity(email, subject=s1), now=NOW)
        first_id = first.user.id
        # The provider now says another (even unverified) email: the link still decides.
        moved = _identity(unique_email("link-moved"), verified=False, subject=s1)
        assert (await oidc_accounts.sign_in_identity(db, moved, now=NOW)).user.id == first_id
        with pytest.raises(oidc_accounts.AlreadyLinked):
            await oidc_accounts.sign_in_identity(db, _identity(email, subject=s2), now=NOW)
        assert await _links(db, first_id) == [s1]


async def test_two_first_sign_ins_at_once_make_one_account_and_one_link(
        sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    email = unique_email("link-race")

    async def once() -> int:
        async with sessionmaker() as db:
            return (await oidc_accounts.sign_in_identity(db, _identity(email), now=NOW)).user.id

    first, second = await asyncio.gather(once(), once())
    assert first == second
    async with sessionmaker() as db:
        assert await _links(db, first) == [f"sub-{email}"]

"""Staff invitations in the services, with the clock as an argument: expiry, replacement,
the email in the same transaction, and no right before acceptance."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import catalog
from catalog.authz import can_manage_venue, can_scan_for_venue
from catalog.invitations import INVITATION_TTL, token_hash
from catalog.models import VenueInvitation
from core.errors import Conflict, Forbidden, Gone, NotFound
from core.models import Role, User, Venue
from mail import causes
from mail.models import OutboxMessage

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
Maker = async_sessionmaker[AsyncSession]


class Mailbox:
    """The notify callback: the real mail cause, remembering each notice's token."""

    def __init__(self) -> None:
        self.tokens: dict[int, str] = {}

    async def __call__(self, session: AsyncSession, notice: catalog.InvitationNotice) -> None:
        self.tokens[notice.invitation_id] = notice.token
        await causes.staff_invitation(
            session, invitation_id=notice.invitation_id, to_address=notice.to_address,
            venue_id=notice.venue.id, role=notice.role, invited_by=notice.invited_by,
            accept_url=f"https://t.test/venue#invitation={notice.invitation_id}"
                       f"&token={notice.token}",
            expires_at=notice.expires_at)


async def person(session: AsyncSession, prefix: str = "fan", *, verified: bool = True) -> User:
    user = User(email=f"{prefix}-{secrets.token_hex(6)}@example.test", name=prefix.title(),
                password_hash="unusable", role=Role.FAN,
                email_verified_at=NOW if verified else None)
    session.add(user)
    await session.commit()
    return user


async def venue_of(session: AsyncSession, owner: User) -> Venue:
    return await catalog.create_venue(session, owner, name="Hall", city="Lyon",
                                      timezone="Europe/Paris", approval_required=False)


async def test_an_invitation_is_an_email_and_no_right_until_accepted(sessionmaker: Maker) -> None:
    mailbox = Mailbox()
    async with sessionmaker() as session:
        owner, door = await person(session, "owner"), await person(session, "door")
        venue = await venue_of(session, owner)
        invitation = await catalog.invite_staff(
            session, owner, venue_id=venue.id, email=f"  {door.email.upper()} ",
            role=Role.SCANNER, now=NOW, notify=mailbox)
        assert invitation.email == door.email
        assert invitation.expires_at == NOW + INVITATION_TTL
        token = mailbox.tokens[invitation.id]
        assert invitation.token_hash == token_hash(token) != token  # only the hash is kept
        mail = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.startswith(f"staff_invitation:{invitation.id}:")))
        assert mail is not None and mail.to_address == door.email
        assert "a door scanner at Hall" in mail.text_body and token in mail.text_body
        assert not await can_scan_for_venue(session, door, venue.id)
        staff = await catalog.accept_invitation(session, door, invitation_id=invitation.id,
                                                token=token, now=NOW)
        assert (staff.venue_id, staff.user_id, staff.role) == (venue.id, door.id, Role.SCANNER)
        assert await can_scan_for_venue(session, door, venue.id)
        assert not await can_manage_venue(session, door, venue.id)
        await session.refresh(door)
        assert door.role == Role.FAN


async def test_expiry_is_by_the_clock_given(sessionmaker: Maker) -> None:
    mailbox = Mailbox()
    async with sessionmaker() as session:
        owner, late = await person(session, "owner"), await person(session, "late")
        venue = await venue_of(session, owner)
        invitation = await catalog.invite_staff(session, owner, venue_id=venue.id,
                                                email=late.email, role=Role.VENUE_ADMIN,
                                                now=NOW, notify=mailbox)
        expiry = NOW + INVITATION_TTL
        assert [i.invitation.id for i in await catalog.my_invitations(
            session, late, now=expiry - timedelta(seconds=1))] == [invitation.id]
        assert await catalog.my_invitations(session, late, now=expiry) == []
        with pytest.raises(Gone, match="expired"):
            await catalog.accept_invitation(session, late, invitation_id=invitation.id,
                                            token=mailbox.tokens[invitation.id], now=expiry)
        assert not await can_manage_venue(session, late, venue.id)


async def test_a_new_invitation_replaces_the_pending_one(sessionmaker: Maker) -> None:
    mailbox = Mailbox()
    async with sessionmaker() as session:
        owner, helper = await person(session, "owner"), await person(session, "helper")
        venue = await venue_of(session, owner)
        first = await catalog.invite_staff(session, owner, venue_id=venue.id,
                                           email=helper.email, role=Role.VENUE_ADMIN,
                                           now=NOW, notify=mailbox)
        second = await catalog.invite_staff(session, owner, venue_id=venue.id,
                                            email=helper.email, role=Role.SCANNER,
                                            now=NOW, notify=mailbox)
        pending = await catalog.venue_invitations(session, owner, venue.id, now=NOW)
        assert [i.id for i in pending] == [second.id]
        with pytest.raises(Gone):  # the first link stops working: it offered more
            await catalog.accept_invitation(session, helper, invitation_id=first.id,
                                            token=mailbox.tokens[first.id], now=NOW)
        with pytest.raises(Forbidden):  # one invitation's token does not open another
            await catalog.accept_invitation(session, helper, invitation_id=second.id,
                                            token=mailbox.tokens[first.id], now=NOW)


async def test_only_the_venues_admins_invite_and_a_failed_email_writes_nothing(
    sessionmaker: Maker,
) -> None:
    async with sessionmaker() as session:
        owner, outsider = await person(session, "owner"), await person(session, "outsider")
        venue = await venue_of(session, owner)
        with pytest.raises(Forbidden):
            await catalog.invite_staff(session, outsider, venue_id=venue.id,
                                       email=outsider.email, role=Role.VENUE_ADMIN, now=NOW,
                                       notify=Mailbox())
        with pytest.raises(NotFound):
            await catalog.invite_staff(session, owner, venue_id=2**62, email=outsider.email,
                                       role=Role.SCANNER, now=NOW, notify=Mailbox())

    async def broken(session: AsyncSession, notice: catalog.InvitationNotice) -> None:
        raise RuntimeError("the outbox is down")

    async with sessionmaker() as session:
        with pytest.raises(RuntimeError):
            await catalog.invite_staff(session, owner, venue_id=venue.id,
                                       email=outsider.email, role=Role.SCANNER, now=NOW,
                                       notify=broken)
    async with sessionmaker() as session:
        rows = await session.scalars(select(VenueInvitation).where(
            VenueInvitation.venue_id == venue.id))
        assert list(rows) == []


async def test_a_venue_cannot_mail_without_a_bound(sessionmaker: Maker) -> None:
    from catalog.invitations import MAX_PENDING_PER_VENUE

    mailbox = Mailbox()
    async with sessionmaker() as session:
        owner = await person(session, "owner")
        venue = await venue_of(session, owner)
        for n in range(MAX_PENDING_PER_VENUE):
            await catalog.invite_staff(session, owner, venue_id=venue.id,
                                       email=f"spam-{n}@example.test", role=Role.SCANNER,
                                       now=NOW, notify=mailbox)
        with pytest.raises(Conflict, match="pending invitations"):
            await catalog.invite_staff(session, owner, venue_id=venue.id,
                                       email="one-more@example.test", role=Role.SCANNER,
                                       now=NOW, notify=mailbox)
        assert len(mailbox.tokens) == MAX_PENDING_PER_VENUE
        # Expired ones no longer count.
        await catalog.invite_staff(session, owner, venue_id=venue.id,
                                   email="next-week@example.test", role=Role.SCANNER,
                                   now=NOW + INVITATION_TTL, notify=mailbox)


async def test_an_unverified_address_sees_and_declines_nothing_without_the_token(
    sessionmaker: Maker,
) -> None:
    """Anyone may sign up with someone's address; until verified it has not shown it reads
    that mailbox, so the venue's offer stays hidden and cannot be declined on their behalf."""
    mailbox = Mailbox()
    async with sessionmaker() as session:
        owner = await person(session, "owner")
        squatter = await person(session, "squatter", verified=False)
        venue = await venue_of(session, owner)
        invitation = await catalog.invite_staff(session, owner, venue_id=venue.id,
                                                email=squatter.email, role=Role.SCANNER,
                                                now=NOW, notify=mailbox)
        assert await catalog.my_invitations(session, squatter, now=NOW) == []
        with pytest.raises(Forbidden, match="confirm your email"):
            await catalog.decline_invitation(session, squatter, invitation_id=invitation.id,
                                             now=NOW)
        with pytest.raises(Forbidden):
            await catalog.decline_invitation(session, squatter, invitation_id=invitation.id,
                                             now=NOW, token="guess")
        await session.refresh(invitation)
        assert invitation.declined_at is None
        # The mailbox's owner holds the token: the link declines, verified or not.
        declined = await catalog.decline_invitation(
            session, squatter, invitation_id=invitation.id, now=NOW,
            token=mailbox.tokens[invitation.id])
        assert declined.declined_at == NOW


async def test_a_lower_invitation_never_lowers_a_venue_admin(sessionmaker: Maker) -> None:
    """The venue's only admin accepting a scanner invitation would have left it with none."""
    mailbox = Mailbox()
    async with sessionmaker() as session:
        owner = await person(session, "owner")
        venue = await venue_of(session, owner)
        invitation = await catalog.invite_staff(session, owner, venue_id=venue.id,
                                                email=owner.email, role=Role.SCANNER,
                                                now=NOW, notify=mailbox)
        staff = await catalog.accept_invitation(session, owner, invitation_id=invitation.id,
                                                token=mailbox.tokens[invitation.id], now=NOW)
        assert staff.role == Role.VENUE_ADMIN
        assert await can_manage_venue(session, owner, venue.id)

"""Venue rights from the real venue_staff table: admins everywhere, staff at their venue."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.authz import (
    TotpSetupRequired,
    can_manage_venue,
    can_scan_for_venue,
    require_venue_admin,
    require_venue_scanner,
    venue_role,
)
from core.errors import Forbidden
from core.models import Role, TotpCredential, User, Venue, VenueStaff


@dataclass(frozen=True)
class Person:
    id: int
    role: str


@dataclass(frozen=True)
class Venues:
    mine: int
    other: int
    admin: Person
    manager: Person
    scanner: Person
    fan: Person


@pytest.fixture
async def venues(sessionmaker: async_sessionmaker[AsyncSession]) -> Venues:
    async with sessionmaker() as session:
        mine, other = Venue(name="Mine", city="Lyon", timezone="Europe/Paris"), \
            Venue(name="Other", city="Lyon", timezone="Europe/Paris")
        people = {role: User(email=f"{role}-{secrets.token_hex(6)}@example.test", name=role,
                             password_hash="unusable", role=role)
                  for role in (Role.ADMIN, Role.VENUE_ADMIN, Role.SCANNER, Role.FAN)}
        session.add_all([mine, other, *people.values()])
        await session.flush()
        session.add_all([
            VenueStaff(venue_id=mine.id, user_id=people[Role.VENUE_ADMIN].id,
                       role=Role.VENUE_ADMIN),
            VenueStaff(venue_id=mine.id, user_id=people[Role.SCANNER].id, role=Role.SCANNER),
        ])
        await session.commit()
        person = {role: Person(user.id, user.role) for role, user in people.items()}
        return Venues(mine.id, other.id, person[Role.ADMIN], person[Role.VENUE_ADMIN],
                      person[Role.SCANNER], person[Role.FAN])


async def test_roles_at_a_venue(sessionmaker: async_sessionmaker[AsyncSession],
                                venues: Venues) -> None:
    async with sessionmaker() as session:
        assert await venue_role(session, venues.admin, venues.mine) == Role.ADMIN
        assert await venue_role(session, venues.admin, venues.other) == Role.ADMIN
        assert await venue_role(session, venues.manager, venues.mine) == Role.VENUE_ADMIN
        assert await venue_role(session, venues.scanner, venues.mine) == Role.SCANNER
        # Staff of one venue are nobody at another; fans and anonymous callers nowhere.
        assert await venue_role(session, venues.manager, venues.other) is None
        assert await venue_role(session, venues.fan, venues.mine) is None
        assert await venue_role(session, None, venues.mine) is None


async def test_who_may_manage_and_who_may_scan(sessionmaker: async_sessionmaker[AsyncSession],
                                               venues: Venues) -> None:
    async with sessionmaker() as session:
        manage = {name: await can_manage_venue(session, person, venues.mine)
                  for name, person in [("admin", venues.admin), ("manager", venues.manager),
                                       ("scanner", venues.scanner), ("fan", venues.fan),
                                       ("nobody", None)]}
        scan = {name: await can_scan_for_venue(session, person, venues.mine)
                for name, person in [("admin", venues.admin), ("manager", venues.manager),
                                     ("scanner", venues.scanner), ("fan", venues.fan),
                                     ("nobody", None)]}
        assert manage == {"admin": True, "manager": True, "scanner": False, "fan": False,
                          "nobody": False}
        assert scan == {"admin": True, "manager": True, "scanner": True, "fan": False,
                        "nobody": False}
        assert not await can_scan_for_venue(session, venues.scanner, venues.other)


async def test_the_requirements_raise_forbidden_with_a_readable_message(
    sessionmaker: async_sessionmaker[AsyncSession], venues: Venues,
) -> None:
    async with sessionmaker() as session:
        await require_venue_admin(session, venues.manager, venues.mine)
        await require_venue_scanner(session, venues.scanner, venues.mine)
        with pytest.raises(Forbidden, match="only this venue's admins"):
            await require_venue_admin(session, venues.scanner, venues.mine)
        with pytest.raises(Forbidden, match="not a scanner for this venue"):
            await require_venue_scanner(session, venues.manager, venues.other)


async def test_the_account_role_alone_grants_no_venue(
    sessionmaker: async_sessionmaker[AsyncSession], venues: Venues,
) -> None:
    # A venue_admin account without a venue_staff row manages nothing.
    stranger = Person(venues.fan.id, Role.VENUE_ADMIN)
    async with sessionmaker() as session:
        assert not await can_manage_venue(session, stranger, venues.mine)


async def test_a_venue_requiring_2fa_refuses_its_staff_without_it(
    sessionmaker: async_sessionmaker[AsyncSession], venues: Venues,
) -> None:
    async with sessionmaker() as session:
        venue = await session.get(Venue, venues.mine)
        assert venue is not None
        venue.require_totp = True
        session.add(TotpCredential(user_id=venues.manager.id, secret_encrypted="x",
                                   created_at=datetime.now(UTC), confirmed_at=None))
        await session.commit()
    async with sessionmaker() as session:
        # Pending enrolment is not enough; platform admins are not venue staff.
        for person in (venues.manager, venues.scanner):
            with pytest.raises(TotpSetupRequired, match="set up two-factor authentication"):
                await venue_role(session, person, venues.mine)
        assert await venue_role(session, venues.admin, venues.mine) == Role.ADMIN
        assert await venue_role(session, venues.fan, venues.mine) is None
        row = await session.get(TotpCredential, venues.manager.id)
        assert row is not None
        row.confirmed_at = datetime.now(UTC)
        await session.commit()
    async with sessionmaker() as session:
        assert await venue_role(session, venues.manager, venues.mine) == Role.VENUE_ADMIN
        with pytest.raises(TotpSetupRequired):
            await require_venue_scanner(session, venues.scanner, venues.mine)

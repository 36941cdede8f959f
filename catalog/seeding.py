"""A whole sale in one transaction: accounts, a venue and its staff, an event, tiers, a drop.

What the demo, the rehearsal seed and the benchmarks set up before anyone queues.
It applies the same rules as the one-at-a-time services (new_event, new_tier,
new_drop, check_timezone) and writes one audit entry, `sale.seed`, by the sale's
first venue admin.

Seeding is idempotent for everything but the drop: seeding a spec again reuses
accounts (by email; an existing account keeps its password and role), the venue
(by name), the event (by venue and title) and its tiers (by name; an existing tier
is kept as it is), and always adds a new drop. Callers that want a fresh sale each
time give it fresh names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.users import normalise_email
from catalog.changes import check_timezone, commit_with_audit
from catalog.drops import DropSchedule, new_drop
from catalog.events import TierSpec, event_tiers, new_event, new_tier
from core.errors import Invalid
from core.models import Drop, Event, Role, User, Venue, VenueStaff

STAFF_ROLES = (Role.VENUE_ADMIN, Role.SCANNER)


@dataclass(frozen=True)
class AccountSpec:
    """An account of the sale; venue admins and scanners become the venue's staff (direct
    venue_staff rows, no invitation; their account's own role is 'fan')."""

    email: str
    name: str
    role: str
    password_hash: str


@dataclass(frozen=True)
class SaleSpec:
    """Everything `seed_sale` creates; names are the keys it reuses rows by."""

    venue: str
    event: str
    starts_at: datetime
    ends_at: datetime
    tiers: tuple[TierSpec, ...]
    schedule: DropSchedule
    accounts: tuple[AccountSpec, ...]  # at least one venue admin: the seed's actor
    description: str = ""
    published: bool = True
    city: str = "Lyon"
    timezone: str = "Europe/Paris"


class SeededSale(NamedTuple):  # the ids of what was seeded, and the new drop itself
    venue_id: int
    event_id: int
    drop: Drop
    tier_ids: dict[str, int]
    account_ids: dict[str, int]  # by normalised email

    @property
    def drop_id(self) -> int:
        return self.drop.id


def _check(spec: SaleSpec) -> None:
    if not any(account.role == Role.VENUE_ADMIN for account in spec.accounts):
        raise Invalid("a sale needs at least one venue admin account")
    names = [tier.name for tier in spec.tiers]
    if len(set(names)) != len(names):
        raise Invalid("tier names must differ")
    check_timezone(spec.timezone)


async def seed_sale(session: AsyncSession, spec: SaleSpec) -> SeededSale:
    """Create (or reuse, see the module) every row of `spec`, commit once, return the ids.
    Raises a DomainError having written nothing."""
    _check(spec)
    try:
        return await _seed(session, spec)
    except BaseException:
        await session.rollback()
        raise


async def _seed(session: AsyncSession, spec: SaleSpec) -> SeededSale:
    users = [await _account(session, account) for account in spec.accounts]
    venue = await session.scalar(select(Venue).where(Venue.name == spec.venue))
    if venue is None:
        venue = Venue(name=spec.venue, city=spec.city, timezone=spec.timezone)
        session.add(venue)
        await session.flush()
    for account, user in zip(spec.accounts, users, strict=True):
        if account.role in STAFF_ROLES and not await session.get(
            VenueStaff, (venue.id, user.id)
        ):
            session.add(VenueStaff(venue_id=venue.id, user_id=user.id, role=account.role))
    event = await session.scalar(
        select(Event).where(Event.venue_id == venue.id, Event.title == spec.event)
    )
    if event is None:
        event = new_event(
            venue.id,
            title=spec.event,
            starts_at=spec.starts_at,
            ends_at=spec.ends_at,
            description=spec.description,
            published=spec.published,
        )
        session.add(event)
        await session.flush()
    tiers = {tier.name: tier for tier in await event_tiers(session, event.id)}
    for tier in spec.tiers:
        if tier.name not in tiers:
            tiers[tier.name] = new_tier(event.id, tier)
            session.add(tiers[tier.name])
    drop = new_drop(event.id, spec.schedule)
    session.add(drop)
    await session.flush()
    actor = next(u for a, u in zip(spec.accounts, users, strict=True) if a.role == Role.VENUE_ADMIN)
    await commit_with_audit(
        session, actor, "sale.seed", ("drop", drop.id), venue_id=venue.id, event_id=event.id
    )
    return SeededSale(
        venue_id=venue.id,
        event_id=event.id,
        drop=drop,
        tier_ids={name: tier.id for name, tier in tiers.items()},
        account_ids={user.email: user.id for user in users},
    )


async def _account(session: AsyncSession, account: AccountSpec) -> User:
    email = normalise_email(account.email)
    user = await session.scalar(select(User).where(User.email == email))
    if user is None:
        # Seeded accounts are the operator's own (demo, rehearsals, benchmarks): verified.
        user = User(
            email=email, name=account.name, password_hash=account.password_hash,
            # Staff rights are the venue_staff row below; the account's role is only
            # 'admin' or 'fan' (catalog/invitations.py).
            role=Role.ADMIN if account.role == Role.ADMIN else Role.FAN,
            email_verified_at=func.now(),
        )
        session.add(user)
        await session.flush()
    return user

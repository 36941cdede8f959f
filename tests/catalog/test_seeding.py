"""catalog/seeding.py on the real Postgres: every row of a sale, drafts, reseeding, bad specs."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import catalog
from catalog import AccountSpec, SaleSpec, TierSpec, seed_sale
from core.errors import Invalid, NotFound
from core.models import AuditEntry, Drop, Event, Role, TicketTier, User, Venue, VenueStaff


def sale_spec(**changes: object) -> SaleSpec:
    tag = secrets.token_hex(4)
    now = datetime.now(UTC)
    spec = SaleSpec(
        venue=f"Seed Hall {tag}",
        event=f"Seed Show {tag}",
        starts_at=now + timedelta(days=30),
        ends_at=now + timedelta(days=30, hours=3),
        description="seeded",
        tiers=(TierSpec("GA", 4500, 90, 4), TierSpec("VIP", 14900, 10, 2, currency="eur")),
        # mode, pre-queue, opens, closes, admitted per minute, max active, session seconds
        schedule=catalog.DropSchedule("direct", now - timedelta(minutes=1),
                                      now + timedelta(minutes=2), now + timedelta(hours=2),
                                      60, 20, 600),
        accounts=(
            AccountSpec(f"Venue-{tag}@Example.test", "Vera", Role.VENUE_ADMIN, "x"),
            AccountSpec(f"door-{tag}@example.test", "Dan", Role.SCANNER, "x"),
            AccountSpec(f"fan-{tag}@example.test", "Fay", Role.FAN, "x"),
        ),
    )
    return dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


async def test_a_sale_is_every_row_in_one_go(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    spec = sale_spec()
    async with sessionmaker() as session:
        seeded = await seed_sale(session, spec)
    async with sessionmaker() as session:
        venue = await session.get(Venue, seeded.venue_id)
        event = await session.get(Event, seeded.event_id)
        drop = await session.get(Drop, seeded.drop_id)
        assert venue is not None and event is not None and drop is not None
        assert (venue.name, venue.city, venue.timezone) == (spec.venue, "Lyon", "Europe/Paris")
        assert (event.venue_id, event.title, event.status) == (venue.id, spec.event, "published")
        assert drop.event_id == event.id and drop.state == "scheduled"
        assert (drop.mode, drop.admit_per_minute, drop.max_active) == ("direct", 60, 20)
        assert (seeded.drop.opens_at, seeded.drop.closes_at) == (drop.opens_at, drop.closes_at)
        tiers = {t.name: t for t in await catalog.event_tiers(session, event.id)}
        assert seeded.tier_ids == {name: tier.id for name, tier in tiers.items()}
        assert [(t.price_cents, t.currency, t.capacity, t.per_fan_limit, t.sold)
                for t in tiers.values()] == [(4500, "EUR", 90, 4, 0), (14900, "EUR", 10, 2, 0)]
        emails = [account.email.lower() for account in spec.accounts]
        assert sorted(seeded.account_ids) == sorted(emails)
        users = {u.email: u for u in await session.scalars(select(User).where(
            User.email.in_(emails)))}
        # Staff rights are venue_staff rows; no account's own role says venue_admin.
        assert [users[e].role for e in emails] == [Role.FAN, Role.FAN, Role.FAN]
        # Seeded accounts are the operator's own: verified, so verified-only drops rehearse.
        assert all(users[e].email_verified_at is not None for e in emails)
        staff = {(s.user_id, s.role) for s in await session.scalars(
            select(VenueStaff).where(VenueStaff.venue_id == venue.id))}
        assert staff == {(users[emails[0]].id, Role.VENUE_ADMIN),
                         (users[emails[1]].id, Role.SCANNER)}
        audit = list(await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sale.seed",
                                     AuditEntry.subject_id == str(drop.id))))
        assert [entry.actor_user_id for entry in audit] == [users[emails[0]].id]
        view = await catalog.visible_drop(session, None, drop.id)
        assert {t.name for t in view.tiers} == {"GA", "VIP"}
        assert view.venue.approval == "approved"  # seeded venues sell without a review


async def test_a_draft_sale_is_seen_only_by_its_venue_admins(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        seeded = await seed_sale(session, sale_spec(published=False))
        event = await session.get(Event, seeded.event_id)
        assert event is not None and event.status == "draft"
        with pytest.raises(NotFound):
            await catalog.visible_drop(session, None, seeded.drop_id)
        admin = await session.get(User, min(seeded.account_ids.values()))
        assert admin is not None
        view = await catalog.visible_drop(session, admin, seeded.drop_id)
        assert view.event.id == seeded.event_id


async def test_seeding_again_reuses_everything_but_the_drop(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    spec = sale_spec()
    more_tiers = (*spec.tiers, TierSpec("Balcony", 2500, 40, 4))
    async with sessionmaker() as session:
        first = await seed_sale(session, spec)
    async with sessionmaker() as session:
        second = await seed_sale(session, dataclasses.replace(spec, tiers=more_tiers))
    assert (second.venue_id, second.event_id) == (first.venue_id, first.event_id)
    assert second.account_ids == first.account_ids
    assert second.drop_id != first.drop_id
    assert {k: v for k, v in second.tier_ids.items() if k != "Balcony"} == first.tier_ids
    async with sessionmaker() as session:
        venues = await session.scalar(
            select(func.count()).select_from(Venue).where(Venue.name == spec.venue))
        tiers = await session.scalar(select(func.count()).select_from(TicketTier).where(
            TicketTier.event_id == first.event_id))
        staff = await session.scalar(select(func.count()).select_from(VenueStaff).where(
            VenueStaff.venue_id == first.venue_id))
    assert (venues, tiers, staff) == (1, 3, 2)


BAD_SPECS = {
    "no venue admin": {"accounts": (AccountSpec("x@example.test", "X", Role.FAN, "x"),)},
    "unknown timezone": {"timezone": "Mars/Olympus"},
    "two tiers of one name": {"tiers": (TierSpec("GA", 100, 1, 1), TierSpec("GA", 200, 1, 1))},
    "negative price": {"tiers": (TierSpec("GA", -1, 1, 1),)},
    "bad currency": {"tiers": (TierSpec("GA", 100, 1, 1, currency="EURO"),)},
    "ends before it starts": {"ends_at": datetime(2020, 1, 1, tzinfo=UTC)},
}


@pytest.mark.parametrize("bad", [*BAD_SPECS, "closes when it opens"])
async def test_a_bad_spec_is_refused_having_written_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], bad: str,
) -> None:
    spec = sale_spec()
    if bad == "closes when it opens":
        spec = sale_spec(schedule=dataclasses.replace(spec.schedule,
                                                      closes_at=spec.schedule.opens_at))
    else:
        spec = dataclasses.replace(spec, **BAD_SPECS[bad])  # type: ignore[arg-type]
    async with sessionmaker() as session:
        with pytest.raises(Invalid):
            await seed_sale(session, spec)
    emails = [account.email.lower() for account in spec.accounts]
    async with sessionmaker() as session:
        assert await session.scalar(select(Venue).where(Venue.name == spec.venue)) is None
        assert await session.scalar(select(Event).where(Event.title == spec.event)) is None
        assert await session.scalar(select(User).where(User.email.in_(emails))) is None

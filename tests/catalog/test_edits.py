"""catalog/edits.py on the real Postgres: what changes, what is refused and why, the audit row.

Sold seats are set on the tier row and carts written as hold mirror rows, as the ledger
and purchase.holds write them; tests/gateway/test_catalog_edit_api.py buys for real."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import catalog
from catalog import AccountSpec, SaleSpec, SeededSale, TierSpec, seed_sale
from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.models import AuditEntry, Event, Hold, Role, TicketTier, User

NOW = datetime.now(UTC)
Sessionmaker = async_sessionmaker[AsyncSession]


async def _sale(sessionmaker: Sessionmaker, **changes: object) -> tuple[SeededSale, User]:
    tag = secrets.token_hex(4)
    spec = SaleSpec(
        venue=f"Edit Hall {tag}", event=f"Edit Show {tag}",
        starts_at=NOW + timedelta(days=30), ends_at=NOW + timedelta(days=30, hours=3),
        tiers=(TierSpec("GA", 4500, 90, 4), TierSpec("VIP", 14900, 10, 2)),
        schedule=catalog.DropSchedule("direct", NOW - timedelta(minutes=1), NOW,
                                      NOW + timedelta(hours=2), 60, 20, 600),
        accounts=(AccountSpec(f"edit-{tag}@example.test", "Vera", Role.VENUE_ADMIN, "x"),),
    )
    async with sessionmaker() as session:
        seeded = await seed_sale(session, dataclasses.replace(spec, **changes))  # type: ignore[arg-type]
        admin = await session.get(User, next(iter(seeded.account_ids.values())))
    assert admin is not None
    return seeded, admin


async def _hold(sessionmaker: Sessionmaker, sale: SeededSale, user: User, tier: str,
                quantity: int, *, expires_in: timedelta = timedelta(minutes=5)) -> None:
    async with sessionmaker() as session, session.begin():
        session.add(Hold(id=str(uuid.uuid4()), drop_id=sale.drop_id, event_id=sale.event_id,
                         user_id=user.id, total_cents=0, currency="EUR",
                         items=[{"tier_id": sale.tier_ids[tier], "quantity": quantity,
                                 "unit_price_cents": 4500}],
                         expires_at=NOW + expires_in, state="active"))


async def _sell(sessionmaker: Sessionmaker, tier_id: int, sold: int) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(update(TicketTier).where(TicketTier.id == tier_id).values(sold=sold))


async def _audit(sessionmaker: Sessionmaker, event_id: int, action: str) -> list[dict]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(AuditEntry.details).where(
            AuditEntry.subject_type == "event", AuditEntry.subject_id == str(event_id),
            AuditEntry.action == action))
        return list(rows)


async def test_an_event_edit_changes_only_what_is_sent_and_is_audited(
    sessionmaker: Sessionmaker,
) -> None:
    sale, admin = await _sale(sessionmaker)
    later = NOW + timedelta(days=31)
    async with sessionmaker() as session:
        event = await catalog.edit_event(session, admin, sale.event_id, title="  New title ",
                                         starts_at=later, ends_at=later + timedelta(hours=2))
    assert event.title == "New title"
    async with sessionmaker() as session:
        stored = await session.get(Event, sale.event_id)
    assert stored is not None and stored.title == "New title"
    assert stored.starts_at == later and stored.description == ""
    [details] = await _audit(sessionmaker, sale.event_id, "event.edit")
    assert set(details["changes"]) == {"title", "starts_at", "ends_at"}
    assert details["changes"]["title"][1] == "New title"
    # The same values again: nothing changed, no second audit row.
    async with sessionmaker() as session:
        await catalog.edit_event(session, admin, sale.event_id, title="New title")
    assert len(await _audit(sessionmaker, sale.event_id, "event.edit")) == 1


@pytest.mark.parametrize(("changes", "message"), [
    ({"ends_at": NOW + timedelta(days=29)}, "ends_at must be after starts_at"),
    ({"starts_at": NOW + timedelta(days=30, hours=3)}, "ends_at must be after starts_at"),
    ({"title": "   "}, "title must not be empty"),
    ({"title": "x" * 301}, "title must be at most 300 characters"),
    ({"description": "a\x00b"}, "description must not contain a NUL character"),
    ({"starts_at": datetime(2031, 1, 1)}, "starts_at needs a timezone offset"),
])
async def test_a_bad_event_edit_is_refused_and_writes_nothing(
    sessionmaker: Sessionmaker, changes: dict, message: str,
) -> None:
    sale, admin = await _sale(sessionmaker)
    async with sessionmaker() as session:
        with pytest.raises(Invalid, match=message):
            await catalog.edit_event(session, admin, sale.event_id, **changes)
    async with sessionmaker() as session:
        stored = await session.get(Event, sale.event_id)
    assert stored is not None and stored.ends_at == NOW + timedelta(days=30, hours=3)
    assert await _audit(sessionmaker, sale.event_id, "event.edit") == []


async def test_only_the_venues_admins_edit_and_never_a_cancelled_event(
    sessionmaker: Sessionmaker,
) -> None:
    sale, admin = await _sale(sessionmaker)
    other_sale, stranger = await _sale(sessionmaker)
    draft, _ = await _sale(sessionmaker, published=False)
    async with sessionmaker() as session:
        with pytest.raises(Forbidden):
            await catalog.edit_event(session, stranger, sale.event_id, title="Mine now")
        with pytest.raises(NotFound):  # another venue's draft: not even seen
            await catalog.edit_event(session, stranger, draft.event_id, title="Mine now")
        with pytest.raises(Forbidden):
            await catalog.edit_tier(session, stranger, sale.event_id, sale.tier_ids["GA"],
                                    now=NOW, capacity=1)
        with pytest.raises(NotFound):  # a tier of another event, through this one
            await catalog.edit_tier(session, admin, sale.event_id,
                                    other_sale.tier_ids["GA"], now=NOW, name="Moved")
    async with sessionmaker() as session, session.begin():
        await session.execute(update(Event).where(Event.id == sale.event_id)
                              .values(status="cancelled"))
    async with sessionmaker() as session:
        with pytest.raises(Conflict, match="cancelled event"):
            await catalog.edit_event(session, admin, sale.event_id, title="Back")
        with pytest.raises(Conflict, match="cancelled event"):
            await catalog.edit_tier(session, admin, sale.event_id, sale.tier_ids["GA"],
                                    now=NOW, capacity=200)


async def test_a_tier_edit_is_audited_and_names_the_drops_whose_stock_follows(
    sessionmaker: Sessionmaker,
) -> None:
    sale, admin = await _sale(sessionmaker)
    tier_id = sale.tier_ids["GA"]
    async with sessionmaker() as session:
        edit = await catalog.edit_tier(session, admin, sale.event_id, tier_id, now=NOW,
                                       name="Standing", price_cents=5000, capacity=120,
                                       per_fan_limit=6)
    assert (edit.tier.name, edit.tier.price_cents, edit.tier.capacity,
            edit.tier.per_fan_limit) == ("Standing", 5000, 120, 6)
    assert edit.selling_drop_ids == [sale.drop_id]
    [details] = await _audit(sessionmaker, sale.event_id, "tier.edit")
    assert details == {"tier_id": tier_id, "changes": {
        "name": ["GA", "Standing"], "price_cents": [4500, 5000], "capacity": [90, 120],
        "per_fan_limit": [4, 6]}}
    async with sessionmaker() as session:
        with pytest.raises(Conflict, match="already has a tier named 'VIP'"):
            await catalog.edit_tier(session, admin, sale.event_id, tier_id, now=NOW,
                                    name="VIP")


async def test_the_price_locks_once_a_seat_is_held_or_sold(sessionmaker: Sessionmaker) -> None:
    sale, admin = await _sale(sessionmaker)
    ga, vip = sale.tier_ids["GA"], sale.tier_ids["VIP"]
    await _hold(sessionmaker, sale, admin, "GA", 2)
    await _hold(sessionmaker, sale, admin, "VIP", 1, expires_in=timedelta(minutes=-1))
    await _sell(sessionmaker, vip, 0)
    async with sessionmaker() as session:
        with pytest.raises(Conflict, match=r"price is fixed .*\(0 sold, 2 in carts\)"):
            await catalog.edit_tier(session, admin, sale.event_id, ga, now=NOW,
                                    price_cents=1)
    async with sessionmaker() as session:
        # The same price, and the other fields, still change; an expired cart holds nothing.
        edit = await catalog.edit_tier(session, admin, sale.event_id, ga, now=NOW,
                                       price_cents=4500, per_fan_limit=2)
        assert edit.tier.per_fan_limit == 2
        free = await catalog.edit_tier(session, admin, sale.event_id, vip, now=NOW,
                                       price_cents=9900)
        assert free.tier.price_cents == 9900
    await _sell(sessionmaker, vip, 3)
    async with sessionmaker() as session:
        with pytest.raises(Conflict, match=r"\(3 sold, 0 in carts\)"):
            await catalog.edit_tier(session, admin, sale.event_id, vip, now=NOW,
                                    price_cents=100)
        listed = await catalog.managed_tiers(session, admin, sale.event_id, now=NOW)
    usages = {tier.id: usage for tier, usage in listed}
    assert (usages[ga].sold, usages[ga].held, usages[vip].sold) == (0, 2, 3)
    assert usages[ga].price_locked and usages[vip].price_locked


async def test_capacity_never_goes_below_sold_plus_held(sessionmaker: Sessionmaker) -> None:
    sale, admin = await _sale(sessionmaker)
    ga = sale.tier_ids["GA"]
    await _sell(sessionmaker, ga, 5)
    await _hold(sessionmaker, sale, admin, "GA", 3)
    async with sessionmaker() as session:
        with pytest.raises(Conflict, match=r"below the 8 seats .*\(5 sold, 3 in carts\)"):
            await catalog.edit_tier(session, admin, sale.event_id, ga, now=NOW, capacity=7)
    async with sessionmaker() as session:
        edit = await catalog.edit_tier(session, admin, sale.event_id, ga, now=NOW, capacity=8)
    assert edit.tier.capacity == 8
    async with sessionmaker() as session:
        stored = await session.get(TicketTier, ga)
    assert stored is not None and stored.capacity == 8

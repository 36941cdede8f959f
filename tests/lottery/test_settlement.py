"""Drawing and settling: winners captured with tickets, losers released, exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import stripe
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Drop, Order, Payment, Ticket, TicketTier
from core.settings import Settings
from lottery import settlement
from lottery.jobs import settle_lottery, settler_pass
from lottery.models import LotteryDrop, LotteryEntry
from lottery.payments import HeldPayments
from lottery.settlement import SettleOptions
from lottery.verify import all_passed, verify_document
from tests.lottery.conftest import enter_many, make_lottery, seal_and_draw
from tests.support.api import sign_up


async def entries_of(db: async_sessionmaker[AsyncSession], drop_id: int) -> list[LotteryEntry]:
    async with db() as session:
        return list(await session.scalars(
            select(LotteryEntry).where(LotteryEntry.drop_id == drop_id)
            .order_by(LotteryEntry.rank)))


async def tickets_of(db: async_sessionmaker[AsyncSession], order_id: str | None) -> int:
    async with db() as session:
        count = await session.scalar(select(func.count()).select_from(Ticket)
                                     .where(Ticket.order_id == order_id))
        return int(count or 0)


async def assert_settled_exactly_once(
    db: async_sessionmaker[AsyncSession], stripe_client: stripe.StripeClient, drop_id: int,
    tier_id: int,
) -> tuple[int, int]:
    """Every entry settled once: winners captured with their tickets, losers released."""
    winners = losers = 0
    async with db() as session:
        tier = await session.get(TicketTier, tier_id)
        assert tier is not None
        issued = await session.scalar(select(func.count()).select_from(Ticket)
                                      .where(Ticket.tier_id == tier_id))
    assert issued <= tier.sold <= tier.capacity  # sold may include direct sales
    for entry in await entries_of(db, drop_id):
        assert entry.settlement == "done", entry.id
        intent = await stripe_client.v1.payment_intents.retrieve_async(entry.payment_intent_id)
        refunds = await stripe_client.v1.refunds.list_async(
            {"payment_intent": entry.payment_intent_id})
        if entry.status == "won" and entry.money == "captured":
            winners += 1
            assert intent.status == "succeeded" and refunds.data == []
            assert await tickets_of(db, entry.order_id) == entry.quantity
            async with db() as session:
                payments = await session.scalar(select(func.count()).select_from(Payment).where(
                    Payment.stripe_payment_intent_id == entry.payment_intent_id))
            assert payments == 1
        else:
            losers += 1
            assert entry.order_id is None
            if entry.money in {"released", "failed"}:
                assert intent.status == "canceled" and refunds.data == []
            else:
                assert entry.money == "refunded" and len(refunds.data) == 1
    assert issued == sum(e.quantity for e in await entries_of(db, drop_id)
                         if e.money == "captured")
    return winners, losers


async def verify_draw_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """The real `ticketq verify-draw` command, in its own process."""
    env = {**os.environ, "DATABASE_URL": settings.database_url or "",
           "REDIS_URL": settings.redis_url or ""}
    command = [str(Path(sys.executable).parent / "ticketq"), "verify-draw", *args]
    return await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True,
                                   text=True, timeout=60)


async def test_a_lottery_from_entries_to_settled(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    stripe_client: stripe.StripeClient, stripe_settings: Settings, tmp_path: Path,
) -> None:
    lottery = await make_lottery(api, capacity=7, max_quantity=2)
    fan = await sign_up(api, "fan")
    entered = await api.post(f"/api/drops/{lottery.drop_id}/entries", headers=fan.headers,
                             json={"tier_id": lottery.ga, "quantity": 2,
                                   "payment_method": "pm_card_visa"})
    assert entered.status_code == 201
    await enter_many(db, payments, lottery, [1, 2] * 7)
    moment = await seal_and_draw(db, lottery.drop_id)

    document = (await api.get(f"/api/drops/{lottery.drop_id}/draw")).json()
    assert document["entries_count"] == 15 and len(document["entries"]) == 15
    assert document["seed"] is not None and document["winners"]
    assert set(document["entries"][0]) == {"id", "tier_id", "quantity"}  # no personal data
    assert all_passed(verify_document(document))
    assert sum(e["quantity"] for e in document["entries"] if e["id"] in document["winners"]) <= 7
    from_database = await verify_draw_cli(stripe_settings, "--drop",
                                          str(lottery.drop_id))
    assert from_database.returncode == 0, from_database.stdout
    assert "verified" in from_database.stdout
    saved = tmp_path / "draw.json"
    saved.write_text(json.dumps(document))
    assert (await verify_draw_cli(stripe_settings, str(saved))).returncode == 0
    document["winners"][0] = next(e["id"] for e in document["entries"]
                                  if e["id"] not in document["winners"])
    saved.write_text(json.dumps(document))
    tampered = await verify_draw_cli(stripe_settings, str(saved))
    assert tampered.returncode == 1 and "MISMATCH  winners" in tampered.stdout

    options = SettleOptions(worker_id="test-worker", batch=4, concurrency=3)
    await settler_pass(db, payments, options, lambda: moment)
    async with db() as session:
        state = await session.get(LotteryDrop, lottery.drop_id)
        assert state is not None and state.state == "settled"
    winners, losers = await assert_settled_exactly_once(db, stripe_client, lottery.drop_id,
                                                        lottery.ga)
    assert winners == len(document["winners"]) and winners + losers == 15

    mine = (await api.get("/api/me/entries", headers=fan.headers)).json()["entries"][0]
    assert mine["status"] in {"won", "lost"} and mine["settled"]
    assert mine["money"] == ("captured" if mine["status"] == "won" else "released")
    progress = await api.get(f"/api/drops/{lottery.drop_id}/lottery/progress",
                             headers=lottery.setup.admin.headers)
    assert progress.status_code == 200
    assert progress.json()["settlement"]["percent_settled"] == 100.0
    assert progress.json()["settlement"]["money"]["captured"] == winners
    assert (await api.get(f"/api/drops/{lottery.drop_id}/lottery/progress",
                          headers=fan.headers)).status_code == 403
    # Settling again changes nothing.
    await settler_pass(db, payments, options, lambda: moment + timedelta(minutes=5))
    assert await assert_settled_exactly_once(db, stripe_client, lottery.drop_id,
                                             lottery.ga) == (winners, losers)


async def test_settlement_resumes_after_a_crash_between_stripe_and_the_database(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api, capacity=6, max_quantity=1)
    await enter_many(db, payments, lottery, [1] * 12)
    moment = await seal_and_draw(db, lottery.drop_id)
    dead = SettleOptions(worker_id="dead-worker", batch=8, lease=timedelta(seconds=30))
    async with db() as session:
        claimed = await settlement.claim(session, lottery.drop_id, dead, moment)
    assert len(claimed) == 8
    # The dead worker reached Stripe for every claimed entry, then died before its commit.
    for entry in claimed:
        assert entry.payment_intent_id is not None
        if entry.status == "won":
            assert await payments.capture(entry.id, entry.payment_intent_id) == "succeeded"
        else:
            assert await payments.release(entry.id, entry.payment_intent_id) == "released"
    alive = SettleOptions(worker_id="alive-worker", batch=5)
    # While the dead worker's lease runs, its entries are not touched.
    assert not await settle_lottery(db, payments, lottery.drop_id, alive, lambda: moment)
    working = [e for e in await entries_of(db, lottery.drop_id) if e.settlement == "working"]
    assert {e.id for e in working} == {e.id for e in claimed}
    later = moment + timedelta(seconds=31)
    assert await settle_lottery(db, payments, lottery.drop_id, alive, lambda: later)
    winners, losers = await assert_settled_exactly_once(db, stripe_client, lottery.drop_id,
                                                        lottery.ga)
    assert (winners, losers) == (6, 6)


async def test_a_winner_whose_seats_sold_elsewhere_is_refunded(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api, capacity=3, max_quantity=1)
    await enter_many(db, payments, lottery, [1] * 5)
    moment = await seal_and_draw(db, lottery.drop_id)
    async with db() as session:  # a direct sale took two seats after the draw
        await session.execute(update(TicketTier).where(TicketTier.id == lottery.ga)
                              .values(sold=TicketTier.sold + 2))
        await session.commit()
    await settle_lottery(db, payments, lottery.drop_id, SettleOptions(worker_id="w"),
                         lambda: moment)
    entries = await entries_of(db, lottery.drop_id)
    won = [e for e in entries if e.status == "won"]
    assert sorted(e.money for e in won) == ["captured", "refunded", "refunded"]
    assert all("refunded" in (e.note or "") for e in won if e.money == "refunded")
    winners, _ = await assert_settled_exactly_once(db, stripe_client, lottery.drop_id, lottery.ga)
    assert winners == 1


async def test_a_winner_whose_hold_lapsed_gets_nothing_charged_and_no_tickets(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api, capacity=2, max_quantity=1)
    await enter_many(db, payments, lottery, [1] * 4)
    moment = await seal_and_draw(db, lottery.drop_id)
    first = next(e for e in await entries_of(db, lottery.drop_id) if e.status == "won")
    await stripe_client.v1.payment_intents.cancel_async(first.payment_intent_id)  # lapsed
    assert await settle_lottery(db, payments, lottery.drop_id, SettleOptions(worker_id="w"),
                                lambda: moment)
    entries = {e.id: e for e in await entries_of(db, lottery.drop_id)}
    assert entries[first.id].money == "failed" and entries[first.id].order_id is None
    assert "nothing was charged" in (entries[first.id].note or "")
    winners, losers = await assert_settled_exactly_once(db, stripe_client, lottery.drop_id,
                                                        lottery.ga)
    assert (winners, losers) == (1, 3)


async def test_capture_now_charges_on_entry_and_refunds_losers(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api, capacity=2, max_quantity=1, open_for=timedelta(days=7),
                                 allow_capture_now=True)
    assert lottery.config["capture_mode"] == "capture_now"
    await enter_many(db, payments, lottery, [1] * 4)
    assert {e.money for e in await entries_of(db, lottery.drop_id)} == {"captured"}
    moment = await seal_and_draw(db, lottery.drop_id)
    assert await settle_lottery(db, payments, lottery.drop_id, SettleOptions(worker_id="w"),
                                lambda: moment)
    entries = await entries_of(db, lottery.drop_id)
    assert sorted(e.money for e in entries) == ["captured", "captured", "refunded", "refunded"]
    assert await assert_settled_exactly_once(db, stripe_client, lottery.drop_id,
                                             lottery.ga) == (2, 2)


async def test_a_cancelled_drop_releases_everyone(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    stripe_client: stripe.StripeClient,
) -> None:
    lottery = await make_lottery(api, capacity=5, draw_after_close=timedelta(days=1))
    await enter_many(db, payments, lottery, [1, 1, 1])
    async with db() as session:
        await session.execute(update(Drop).where(Drop.id == lottery.drop_id)
                              .values(state="cancelled"))
        await session.commit()
    moment = datetime.now(UTC)
    await settler_pass(db, payments, SettleOptions(worker_id="w"), lambda: moment)
    entries = await entries_of(db, lottery.drop_id)
    assert [e.status for e in entries] == ["lost"] * 3
    assert [e.money for e in entries] == ["released"] * 3
    await assert_settled_exactly_once(db, stripe_client, lottery.drop_id, lottery.ga)


async def test_the_sweeper_releases_attempts_whose_request_died(
    api: httpx.AsyncClient, db: async_sessionmaker[AsyncSession], payments: HeldPayments,
    stripe_client: stripe.StripeClient,
) -> None:
    from lottery.entries import sweep_abandoned
    from tests.lottery.conftest import make_fans

    lottery = await make_lottery(api)
    [fan] = await make_fans(db, 1)
    entry = LotteryEntry(id="00000000-0000-4000-8000-00000000dead", drop_id=lottery.drop_id,
                         user_id=fan, tier_id=lottery.ga, quantity=1, unit_price_cents=5000,
                         amount_cents=5000, currency="EUR", status="authorising",
                         settlement="pending", money="none")
    async with db() as session:
        session.add(entry)
        await session.commit()
    intent_id = await payments.create_intent(entry_id=entry.id, drop_id=lottery.drop_id,
                                             amount_cents=5000, currency="EUR",
                                             payment_method="pm_card_visa", capture_now=False)
    async with db() as session:
        await session.execute(update(LotteryEntry).where(LotteryEntry.id == entry.id)
                              .values(payment_intent_id=intent_id))
        await session.commit()
    assert (await payments.confirm(entry.id, intent_id)).status == "requires_capture"
    # The request died here. Young attempts are left alone; old ones are released.
    fresh = datetime.now(UTC)
    assert await sweep_abandoned(db, payments, now=fresh) == 0
    assert await sweep_abandoned(db, payments, now=fresh + timedelta(minutes=3)) == 1
    intent = await stripe_client.v1.payment_intents.retrieve_async(intent_id)
    assert intent.status == "canceled"
    async with db() as session:
        assert await session.get(LotteryEntry, entry.id) is None


def test_order_ids_derive_from_entry_ids() -> None:
    assert settlement.order_id_for("a") == settlement.order_id_for("a")
    assert settlement.order_id_for("a") != settlement.order_id_for("b")
    assert dataclasses.is_dataclass(SettleOptions)
    assert Order.__tablename__ == "orders"

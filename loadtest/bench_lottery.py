"""Lottery benchmark: the draw of 100,000 entries, and settlement against localstripe.

    python -m loadtest.bench_lottery [--entries 100000] [--settle 2000] [--concurrency 8]

Everything runs here in one go: the embedded Postgres under .ticketq/bench_lottery/
(or DATABASE_URL's server) with a fresh migrated database, and a localstripe
process on a loopback port. Each figure comes with a reference measured in the
same run, because absolute times mean little across machines:

- draw (pure): `lottery.draw.run_draw` on N entries (rank by HMAC-SHA256, pick
  winners), best of 3, against hashing the same N ids with plain sha256.
- draw (database): `lottery.lifecycle.draw` on N entries in Postgres (read the
  sealed list, re-hash it, rank, write every rank and outcome in one UPDATE),
  against a plain `UPDATE lottery_entries SET rank = rank` of the same rows.
- settlement: `lottery.jobs.settle_lottery` on a bounded sample (--settle),
  entries settled per second, against bare PaymentIntent retrieves per second
  at the same concurrency (one Stripe round trip, no database). The sample is
  small because localstripe pickles its whole in-memory store to
  /tmp/localstripe.pickle on every object it creates: each write costs O(objects
  so far), so 100,000 entries against it would take hours, and the rate it
  allows falls as the sample grows. Against real Stripe the bound is Stripe's
  latency times the concurrency instead.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import secrets
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import catalog
from bootstrap.migrate import upgrade
from core.db import (
    create_engine,
    create_sessionmaker,
    recreate_database,
)
from core.embedded import EmbeddedServices
from core.models import Drop, User
from core.settings import Settings
from core.supervisor import Supervisor
from loadtest.seed import seed_bench_sale
from lottery import lifecycle
from lottery.draw import EntryTicket, commitment, run_draw
from lottery.entries import enter_lottery
from lottery.jobs import settle_lottery
from lottery.models import LotteryDrop, LotteryEntry
from lottery.payments import HeldPayments
from lottery.settlement import SettleOptions
from payments.stripe_client import from_settings
from purchase.demo_stripe import start_localstripe

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "ticketq_bench_lottery"


def best_of(runs: int, work: Callable[[], object]) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def bench_pure_draw(count: int) -> dict[str, float]:
    rng = random.Random(1)
    pool = [
        EntryTicket(str(uuid.UUID(int=rng.getrandbits(128), version=4)), 1 + i % 3, 1 + i % 4)
        for i in range(count)
    ]
    seed = secrets.token_bytes(32)
    capacity = {1: count // 10, 2: count // 20, 3: count // 50}
    draw_s = best_of(3, lambda: run_draw(seed, pool, capacity))
    ids = [entry.id for entry in pool]
    sha_s = best_of(3, lambda: [hashlib.sha256(entry_id.encode()).digest() for entry_id in ids])
    return {"draw_s": draw_s, "sha256_s": sha_s}


def fresh_database(embedded: EmbeddedServices | None) -> str:
    server = os.environ.get("DATABASE_URL") or (
        embedded.start(want_redis=False)["DATABASE_URL"] if embedded else "")
    url = recreate_database(server, DATABASE)
    upgrade(url)
    return url


async def make_lottery(db: async_sessionmaker[AsyncSession], *, capacity: int) -> tuple[int, int]:
    """A published event, one tier, an open lottery drop drawing at close: (drop_id, tier_id)."""
    async with db() as session:
        sale = await seed_bench_sale(
            session, catalog.TierSpec("GA", 5000, capacity, 4), mode="lottery")
        seed = secrets.token_bytes(32)
        session.add(
            LotteryDrop(
                drop_id=sale.drop_id,
                draw_at=sale.drop.closes_at,
                max_quantity_per_entry=4,
                capture_mode="authorise",
                seed=seed,
                commitment=commitment(seed),
                state="open",
            )
        )
        await session.commit()
        return sale.drop_id, sale.tier_ids["GA"]


async def make_fans(db: async_sessionmaker[AsyncSession], count: int) -> list[int]:
    async with db() as session:
        rows = [
            {
                "email": f"bench-{uuid.uuid4().hex}@example.test",
                "name": "Fan",
                "password_hash": "unusable",
                "role": "fan",
            }
            for _ in range(count)
        ]
        ids = list(await session.scalars(insert(User).returning(User.id), rows))
        await session.commit()
        return ids


async def bench_database_draw(db: async_sessionmaker[AsyncSession], count: int) -> dict[str, float]:
    drop_id, tier_id = await make_lottery(db, capacity=count // 10)
    fans = await make_fans(db, count)
    rows: list[dict[str, Any]] = [
        {
            "id": str(uuid.uuid4()),
            "drop_id": drop_id,
            "user_id": fan,
            "tier_id": tier_id,
            "quantity": 1 + i % 4,
            "unit_price_cents": 5000,
            "amount_cents": 5000 * (1 + i % 4),
            "currency": "EUR",
            "status": "entered",
            "settlement": "pending",
            "money": "authorised",
            "payment_intent_id": f"pi_bench_{i}",
        }
        for i, fan in enumerate(fans)
    ]
    async with db() as session:
        await session.execute(insert(LotteryEntry), rows)
        await session.commit()
    async with db() as session:
        drop = await session.get(Drop, drop_id)
        assert drop is not None
        after_close = drop.closes_at + timedelta(seconds=1)
        started = time.perf_counter()
        assert await lifecycle.seal(session, drop_id, after_close)
    seal_s = time.perf_counter() - started
    async with db() as session:
        started = time.perf_counter()
        assert await lifecycle.draw(session, drop_id, after_close)
    draw_s = time.perf_counter() - started
    async with db() as session:
        started = time.perf_counter()
        await session.execute(
            text("UPDATE lottery_entries SET rank = rank WHERE drop_id = :d"), {"d": drop_id}
        )
        await session.commit()
    update_s = time.perf_counter() - started
    return {"seal_s": seal_s, "draw_s": draw_s, "update_s": update_s}


async def bench_settlement(
    db: async_sessionmaker[AsyncSession], payments: HeldPayments, count: int, concurrency: int
) -> dict[str, float]:
    drop_id, tier_id = await make_lottery(db, capacity=count // 2)
    fans = await make_fans(db, count)
    gate = asyncio.Semaphore(concurrency)
    entry_gate = asyncio.Semaphore(4 * concurrency)  # setup, not the measured part

    async def enter(fan: int) -> str:
        async with entry_gate:
            entry = await enter_lottery(
                db,
                payments,
                user_id=fan,
                drop_id=drop_id,
                tier_id=tier_id,
                quantity=1,
                payment_method="pm_card_visa",
                clock=lambda: datetime.now(UTC),
            )
            assert entry.payment_intent_id is not None
            return entry.payment_intent_id

    started = time.perf_counter()
    intents = await asyncio.gather(*(enter(fan) for fan in fans))
    enter_s = time.perf_counter() - started

    async def retrieve(intent_id: str) -> None:
        async with gate:
            await payments.state(intent_id)

    started = time.perf_counter()
    await asyncio.gather(*(retrieve(intent_id) for intent_id in intents))
    retrieve_s = time.perf_counter() - started

    async with db() as session:
        drop = await session.get(Drop, drop_id)
        assert drop is not None
        after_close = drop.closes_at + timedelta(seconds=1)
    outcome = await lifecycle.advance(db, drop_id, after_close)
    assert outcome == {"sealed": True, "drawn": True}, outcome
    options = SettleOptions(worker_id="bench", batch=100, concurrency=concurrency)
    stripe_s = time_stripe_calls(payments, ("capture", "release"))
    started = time.perf_counter()
    done = await settle_lottery(
        db, payments, drop_id, options, lambda: after_close, max_batches=10_000
    )
    settle_s = time.perf_counter() - started
    assert done, "settlement did not finish"
    async with db() as session:
        money = dict(
            (
                await session.execute(
                    select(LotteryEntry.money, text("count(*)"))
                    .where(LotteryEntry.drop_id == drop_id)
                    .group_by(LotteryEntry.money)
                )
            ).all()
        )
    print(f"  settled sample: {money}")
    return {"enter_s": enter_s, "retrieve_s": retrieve_s, "settle_s": settle_s,
            "stripe_share": stripe_s[0] / (settle_s * concurrency)}


def time_stripe_calls(payments: HeldPayments, names: tuple[str, ...]) -> list[float]:
    """Wrap the named Stripe calls so their total duration accumulates in the returned cell."""
    total = [0.0]
    for name in names:
        call = getattr(payments, name)

        async def timed(*args: Any, _call: Any = call, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await _call(*args, **kwargs)
            finally:
                total[0] += time.perf_counter() - started

        setattr(payments, name, timed)
    return total


async def run(entries: int, settle: int, concurrency: int) -> None:
    print(
        f"lottery benchmark: {entries:,} entries drawn, {settle:,} settled "
        f"(concurrency {concurrency}); python {sys.version.split()[0]}"
    )
    pure = bench_pure_draw(entries)
    print(
        f"draw (pure)      : {pure['draw_s'] * 1000:8.1f} ms   sha256 of the ids: "
        f"{pure['sha256_s'] * 1000:.1f} ms   ratio {pure['draw_s'] / pure['sha256_s']:.1f}x"
    )
    # The embedded Postgres is stopped at the end unless it was already running.
    embedded = None if os.environ.get("DATABASE_URL") else EmbeddedServices(
        ROOT / ".ticketq" / "bench_lottery")
    started_here = embedded is not None and embedded.status()["postgres"] == "stopped"
    engine = create_engine(fresh_database(embedded), pool_size=4 * concurrency + 2)
    db = create_sessionmaker(engine)
    supervisor = Supervisor(ROOT / ".ticketq" / "bench_lottery")
    url = start_localstripe(supervisor).url
    client = from_settings(Settings.from_env({"STRIPE_API_KEY": "sk_test_bench",
                                              "STRIPE_API_BASE": url}))
    assert client is not None
    payments = HeldPayments(client)
    try:
        stored = await bench_database_draw(db, entries)
        print(f"seal (database)  : {stored['seal_s'] * 1000:8.1f} ms   (read + hash the list)")
        print(
            f"draw (database)  : {stored['draw_s'] * 1000:8.1f} ms   plain UPDATE of the rows: "
            f"{stored['update_s'] * 1000:.1f} ms   ratio "
            f"{stored['draw_s'] / stored['update_s']:.1f}x"
        )
        money = await bench_settlement(db, payments, settle, concurrency)
        print(
            f"entries accepted : {settle / money['enter_s']:8.0f} /s  (setup, concurrency "
            f"{4 * concurrency}: create + confirm intent, 3 transactions each)"
        )
        print(
            f"entries settled  : {settle / money['settle_s']:8.0f} /s  bare intent retrieves: "
            f"{settle / money['retrieve_s']:.0f} /s   ratio "
            f"{money['retrieve_s'] / money['settle_s']:.2f}"
        )
        print(f"                   Stripe calls take ~{money['stripe_share']:.0%} of the "
              f"settling slots' time (the rest: claims, orders, tickets, commits)")
    finally:
        await payments.client.aclose()
        await engine.dispose()
        if embedded is not None and started_here:
            embedded.stop()
        supervisor.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--settle", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.entries, args.settle, args.concurrency))


if __name__ == "__main__":
    main()

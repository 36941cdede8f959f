"""Paid orders per second end to end (reserve -> pay against localstripe -> commit) against
`pgbench -N` TPS on the same Postgres, measured in one run.

    python -m loadtest.bench_purchase_orders [--seconds 10] [--clients 16] [--own-only]
                                             [--profile orders.pstats] [--pool N]
                                             [--loop asyncio|uvloop]

Each client is an admitted fan buying one ticket again and again through the purchase
services (no HTTP): `create_hold` (Lua gate + hold mirror row), `checkout` (order row
and claim, PaymentIntent created, recorded, confirmed at localstripe, then settled:
hold converted, tier capacity guard, tickets, payment row), then the queue's
`complete_pass`. pgbench runs its simple-update script (`-N`) with as many clients on
the same server. Goal (issue 15): TicketQ's own path >= 0.05 of pgbench's TPS, moonshot
0.1; each run prints the TicketQ process's CPU seconds per paid order
(`time.process_time()` over the run: the embedded servers are other processes).

localstripe is a single Python process that pickles its whole store on every write,
so it caps the end-to-end figure; two more figures separate its cost from TicketQ's:
the same run against localstripe measured alone (create + confirm pairs/s), and the
same pipeline with an in-process payment double that succeeds at once (TicketQ's own
Redis + Postgres path, reserve -> order -> commit, against pgbench). `--own-only` skips
the localstripe runs; `--profile FILE` writes a cProfile of the TicketQ-path-only run;
`--pool N` caps the TicketQ process at N Postgres connections (default: a pool of one
per client plus as many on overflow). `--loop uvloop` runs the TicketQ-path-only run
on uvloop, as the gateway's uvicorn does where checkouts happen (default: asyncio's own
loop, the figure's reference setting since it was first measured).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

import catalog
from bootstrap.migrate import upgrade
from core.db import (
    create_engine,
    create_sessionmaker,
    recreate_database,
)
from core.models import User
from core.redis_client import close_redis, create_redis
from core.redis_keys import DropKeys
from core.scripts import ScriptRegistry
from core.settings import Settings
from core.supervisor import Supervisor
from loadtest.bench_purchase_kit import HOME, figure, note, servers
from loadtest.pgbench import pgbench_tps
from loadtest.seed import seed_bench_sale
from payments.stripe_client import Intent, StripeClient, from_settings
from purchase import checkout, holds
from purchase.context import build_context
from purchase.demo_stripe import demo_environment, start_localstripe
from queue_engine.credentials import CredentialSigner

ORDERS_DB = "ticketq_bench_orders"
GOAL = 0.05  # issue 15: TicketQ's own path against pgbench -N
MOONSHOT = 0.1
PGBENCH_DB = "ticketq_bench_pgbench"


async def _seed(database_url: str, fans: int) -> tuple[int, int, list[int]]:
    engine = create_engine(database_url, pool_size=2)
    maker = create_sessionmaker(engine)
    async with maker() as session:
        sale = await seed_bench_sale(
            session, catalog.TierSpec("GA", 2500, 10_000_000, 100_000),
            open_for=timedelta(hours=2), max_active=10_000, session_seconds=3600)
        users = [User(email=f"bench-{time.time_ns()}-{n}@example.test", name="Fan",
                      password_hash="x", role="fan") for n in range(fans)]
        session.add_all(users)
        await session.commit()
    await engine.dispose()
    return sale.drop_id, sale.tier_ids["GA"], [user.id for user in users]


class InstantPayments(StripeClient):
    """A payment double for the benchmark only: every card succeeds at once, in process."""

    def __init__(self) -> None:
        self.intents: dict[str, Intent] = {}

    async def aclose(self) -> None:
        return None

    async def create_intent(self, *, amount: int, currency: str, payment_method: str | None,
                            idempotency_key: str, metadata: dict[str, str],
                            capture: Literal["automatic", "manual"] = "automatic") -> Intent:
        intent = Intent(f"pi_{uuid.uuid4().hex}", "requires_confirmation", amount, currency,
                        "secret", metadata)
        self.intents[intent.id] = intent
        return intent

    async def confirm_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        intent = dataclasses.replace(self.intents[intent_id], status="succeeded")
        self.intents[intent_id] = intent
        return intent

    async def retrieve_intent(self, intent_id: str) -> Intent:
        return self.intents[intent_id]


async def paid_orders_per_second(redis_url: str, database_url: str, localstripe_url: str | None,
                                 *, clients: int, seconds: float,
                                 pool: int = 0) -> tuple[float, int, float]:
    """(paid orders/s, orders not paid, CPU seconds of this process per paid order)."""
    drop_id, tier_id, fans = await _seed(database_url, clients)
    settings = Settings.from_env({"REDIS_URL": redis_url, "DATABASE_URL": database_url,
                                  **demo_environment(localstripe_url or "http://unused")})
    redis = create_redis(redis_url, max_connections=clients * 2)
    engine = (create_engine(database_url, pool_size=pool, max_overflow=0) if pool
              else create_engine(database_url, pool_size=clients, max_overflow=clients))
    context = build_context(settings, ScriptRegistry(redis), create_sessionmaker(engine))
    if localstripe_url is None:
        await context.aclose()
        context.stripe = InstantPayments()
    keys = DropKeys(drop_id)
    signer = CredentialSigner(settings.secret_key)
    expires_ms = int(time.time() * 1000) + 3_600_000
    passes = {}
    for fan in fans:
        pass_id = f"bench-{fan}"
        await redis.hset(keys.passes, str(fan), pass_id)
        await redis.zadd(keys.active, {str(fan): expires_ms})
        passes[fan] = signer.admission_pass(fan, drop_id, pass_id, expires_ms)
    paid = 0
    failed = 0
    end = time.monotonic() + seconds

    async def buyer(fan: int) -> None:
        nonlocal paid, failed
        while time.monotonic() < end:
            now = datetime.now(UTC)
            receipt = await holds.create_hold(context, drop_id=drop_id, fan_id=fan,
                                              admission_pass=passes[fan], items=[(tier_id, 1)],
                                              now=now)
            result = await checkout.checkout(context, hold_id=receipt.hold_id, fan_id=fan,
                                             payment_method="pm_card_visa", now=now)
            if result.status == "paid":
                paid += 1
                # The paid fan's pass was completed; the bench fan is admitted again (one
                # round trip: the bench's own work is counted in the CPU per order).
                async with redis.pipeline(transaction=False) as regrant:
                    regrant.hset(keys.passes, str(fan), f"bench-{fan}")
                    regrant.zadd(keys.active, {str(fan): expires_ms})
                    await regrant.execute()
            else:
                failed += 1

    started, cpu_started = time.monotonic(), time.process_time()
    try:
        await asyncio.gather(*(buyer(fan) for fan in fans))
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    finally:
        await context.aclose()
        await close_redis(redis)
        await engine.dispose()
    return paid / elapsed, failed, cpu / max(paid, 1)


async def localstripe_pairs_per_second(localstripe_url: str, *, clients: int,
                                       seconds: float) -> float:
    gateway = from_settings(Settings.from_env(demo_environment(localstripe_url)))
    assert gateway is not None
    done = 0
    end = time.monotonic() + seconds

    async def client(number: int) -> None:
        nonlocal done
        while time.monotonic() < end:
            intent = await gateway.create_intent(
                amount=2500, currency="EUR", payment_method="pm_card_visa",
                idempotency_key=f"bench-{number}-{done}-{time.time_ns()}", metadata={})
            await gateway.confirm_intent(intent.id, idempotency_key=f"c-{intent.id}")
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    await gateway.aclose()
    return done / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--own-only", action="store_true",
                        help="skip the localstripe runs (TicketQ's own path and pgbench only)")
    parser.add_argument("--profile", metavar="FILE",
                        help="write a cProfile (pstats) of the TicketQ-path-only run")
    parser.add_argument("--pool", type=int, default=0, metavar="N",
                        help="cap the TicketQ process at N Postgres connections (default: one per "
                             "client, as many again on overflow); pgbench keeps one per client")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                        help="event loop of the TicketQ-path-only run (default: asyncio)")
    args = parser.parse_args()
    run_own = asyncio.run
    if args.loop == "uvloop":
        import uvloop

        run_own = uvloop.run
    with servers() as (redis_url, server_url):
        database_url = recreate_database(server_url, ORDERS_DB)
        upgrade(database_url)
        tps = pgbench_tps(server_url, database=PGBENCH_DB, clients=args.clients,
                          seconds=args.seconds, scale=10)
        if not args.own_only:
            # Each measure starts from an empty localstripe (--from-scratch).
            with Supervisor(HOME / "logs") as supervisor:
                stripe_alone = asyncio.run(localstripe_pairs_per_second(
                    start_localstripe(supervisor).url, clients=args.clients,
                    seconds=args.seconds))
            with Supervisor(HOME / "logs") as supervisor:
                orders, failed, cpu = asyncio.run(paid_orders_per_second(
                    redis_url, database_url, start_localstripe(supervisor).url,
                    clients=args.clients, seconds=args.seconds))
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            profiler.enable()
        own, own_failed, own_cpu = run_own(paid_orders_per_second(
            redis_url, database_url, None, clients=args.clients, seconds=args.seconds,
            pool=args.pool))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
    reference = f"pgbench -N TPS, same Postgres, {args.clients} clients"
    note(f"pgbench -N: {tps:,.0f} TPS")
    if not args.own_only:
        note(f"localstripe alone: {stripe_alone:,.1f} create+confirm pairs/s; end to end: "
             f"{cpu * 1000:.1f} ms of TicketQ CPU per paid order; orders not paid: {failed}")
        # localstripe bounds this figure: its own ratio says how close TicketQ comes to it.
        figure("paid orders end to end (localstripe)", orders, "orders/s", orders / tps,
               reference)
        figure("paid orders vs localstripe alone", orders, "orders/s", orders / stripe_alone,
               "localstripe create+confirm pairs/s measured alone")
    note(f"TicketQ path only: {own_cpu * 1000:.1f} ms of TicketQ CPU per paid order "
         f"(this process; Redis and Postgres not counted); orders not paid: {own_failed}; "
         f"Postgres pool: {args.pool or args.clients}{'' if args.pool else ' + overflow'}; "
         f"event loop: {args.loop}")
    figure("paid orders, TicketQ path only", own, "orders/s", own / tps,
           reference + "; payments by an in-process double", f">= {GOAL}")
    for name, target in (("goal", GOAL), ("moonshot", MOONSHOT)):
        met = "met" if own / tps >= target else "not met"
        note(f"{name} >= {target} of pgbench -N (TicketQ path only): {own / tps:.3f}, {met}")


if __name__ == "__main__":
    main()

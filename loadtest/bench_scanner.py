"""Door benchmark: Ed25519 verifications/s and online check-ins/s against `pgbench -N` TPS.

    python -m loadtest.bench_scanner [--tickets 4000] [--concurrency 16] [--seconds 10]

Everything runs on this machine in one go: the embedded Postgres under
.ticketq/bench_scanner/ (or DATABASE_URL's server), a fresh migrated database
for TicketQ and another for pgbench. Figures are printed as ratios to the
pgbench TPS measured in the same run, since absolute numbers mean nothing
across machines (docs/scanner.md explains how to read them).

- verify/s: decode + Ed25519 verification of one payload, one core, no I/O.
- check-ins/s: `scanner.checkin.scan_online` end to end on distinct tickets
  (nonce lookup, authorisation, signature, rotating code, the atomic INSERT,
  the winner read, the scan log, commit), `--concurrency` sessions at once.
- duplicates/s: the same, scanning already-admitted tickets again.
- pgbench -N: TPC-B-like without the hot-row updates (3 UPDATE/SELECT/INSERT
  statements a transaction), same client count, same server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import catalog
from bootstrap.migrate import upgrade
from core.db import (
    create_engine,
    create_sessionmaker,
    recreate_database,
)
from core.embedded import EmbeddedServices
from core.models import Order, Role
from loadtest.pgbench import pgbench_tps
from loadtest.seed import seed_bench_sale
from purchase.ledger import issue_tickets
from scanner.checkin import scan_online
from scanner.codes import current_code
from scanner.keyring import KeyRing, active_key_id
from scanner.payload import TicketClaims, decode, encode

ROOT = Path(__file__).resolve().parents[1]
PERIOD_S = 15


@dataclass(frozen=True)
class Actor:
    id: int
    role: str


def verifications_per_second(ring: KeyRing, seconds: float) -> float:
    claims = TicketClaims(key_id=1, ticket_id=str(uuid.uuid4()), event_id=1, tier_id=1)
    text = encode(claims, ring.sign(claims), 123456)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(200):
            scanned = decode(text)
            assert ring.verify(scanned.claims, scanned.signature)
        done += 200
    return done / (time.perf_counter() - started)


async def _setup(
    maker: async_sessionmaker[AsyncSession], tickets: int
) -> tuple[Actor, list[TicketClaims]]:
    tag = secrets.token_hex(4)
    fan_email, door_email = f"fan-{tag}@bench.test", f"door-{tag}@bench.test"
    async with maker() as session:
        sale = await seed_bench_sale(
            session, catalog.TierSpec("GA", 100, tickets, tickets), starts_in=timedelta(0),
            accounts=(catalog.AccountSpec(fan_email, "Bench Fan", Role.FAN, "x"),
                      catalog.AccountSpec(door_email, "Door", Role.SCANNER, "x")))
        fan_id, door_id = sale.account_ids[fan_email], sale.account_ids[door_email]
        event_id, tier_id = sale.event_id, sale.tier_ids["GA"]
        order = Order(
            id=str(uuid.uuid4()),
            user_id=fan_id,
            event_id=event_id,
            drop_id=sale.drop_id,
            items=[{"tier_id": tier_id, "quantity": tickets, "unit_price_cents": 100}],
            total_cents=100 * tickets,
            currency="EUR",
            state="paid",
        )
        session.add(order)
        await session.flush()
        issued = await issue_tickets(session, order)
        key_id = await active_key_id(session, event_id)
        await session.commit()
        claims = [
            TicketClaims(key_id=key_id, ticket_id=t.id, event_id=event_id, tier_id=tier_id)
            for t in issued
        ]
        return Actor(door_id, Role.SCANNER), claims


async def check_ins_per_second(
    maker: async_sessionmaker[AsyncSession],
    ring: KeyRing,
    actor: Actor,
    claims: list[TicketClaims],
    concurrency: int,
    expect: str,
) -> tuple[float, float]:
    """Check-ins per second, and milliseconds of Python CPU per check-in."""
    signed = [(c, ring.sign(c)) for c in claims]
    queue: asyncio.Queue[tuple[TicketClaims, bytes]] = asyncio.Queue()
    for item in signed:
        queue.put_nowait(item)
    results: dict[str, int] = {}

    async def door(number: int) -> None:
        while not queue.empty():
            claim, signature = queue.get_nowait()
            now = datetime.now(UTC)
            payload = encode(
                claim, signature, current_code(ring.code_secret(claim.ticket_id), now, PERIOD_S)
            )
            async with maker() as session:
                answer = await scan_online(
                    session,
                    ring,
                    actor,
                    payload=payload,
                    gate="Bench",
                    device_id=f"bench-{number}",
                    nonce=uuid.uuid4().hex,
                    event_id=claim.event_id,
                    now=now,
                    period_s=PERIOD_S,
                )
            results[answer["result"]] = results.get(answer["result"], 0) + 1

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(door(n) for n in range(concurrency)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if results != {expect: len(claims)}:
        raise SystemExit(f"unexpected answers {results}, wanted {len(claims)} x {expect}")
    return len(claims) / elapsed, cpu * 1000 / len(claims)


async def main_async(args: argparse.Namespace) -> None:
    server = os.environ.get("DATABASE_URL")
    embedded = None
    if not server:
        embedded = EmbeddedServices(ROOT / ".ticketq" / "bench_scanner")
        server = embedded.start(want_redis=False)["DATABASE_URL"]
    try:
        await _run(args, server)
    finally:
        if embedded is not None:
            embedded.stop()


async def _run(args: argparse.Namespace, server: str) -> None:
    app_url = recreate_database(server, "ticketq_bench_scanner")
    upgrade(app_url)
    ring = KeyRing(secrets.token_bytes(32))

    verify_rate = verifications_per_second(ring, 3.0)
    engine = create_engine(app_url, pool_size=args.concurrency, max_overflow=0)
    maker = create_sessionmaker(engine)
    try:
        actor, claims = await _setup(maker, args.tickets)
        checkin_rate, checkin_cpu = await check_ins_per_second(
            maker, ring, actor, claims, args.concurrency, "valid"
        )
        duplicate_rate, duplicate_cpu = await check_ins_per_second(
            maker, ring, actor, claims[: args.tickets // 2], args.concurrency, "duplicate"
        )
    finally:
        await engine.dispose()
    tps = pgbench_tps(server, database="ticketq_bench_pgbench", clients=args.concurrency,
                      seconds=args.seconds)

    rows = [
        (f"pgbench -N ({args.concurrency} clients, {args.seconds}s)", tps, "TPS (reference)"),
        ("Ed25519 decode+verify (1 core)", verify_rate, f"/s = {verify_rate / tps:.2f} x pgbench"),
        (
            f"online check-ins ({args.concurrency} sessions)",
            checkin_rate,
            f"/s = {checkin_rate / tps:.3f} x pgbench ({checkin_cpu:.2f} ms Python CPU each)",
        ),
        (
            f"duplicate scans ({args.concurrency} sessions)",
            duplicate_rate,
            f"/s = {duplicate_rate / tps:.3f} x pgbench ({duplicate_cpu:.2f} ms Python CPU each)",
        ),
    ]
    for label, value, unit in rows:
        print(f"{label:<36} {value:10.0f} {unit}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10, help="pgbench run time")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()

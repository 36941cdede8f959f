"""Holds per second: the Lua `reserve_hold` gate against the design users would pick instead,
a Postgres `SELECT ... FOR UPDATE` on the tier row, built here. Same 500 concurrent
clients, same single hot tier, same machine, one run.

    python -m loadtest.bench_purchase_hold [--seconds 6] [--clients 500] [--pool 50]

Redis side: `reserve_hold` through the script registry (pass liveness, stock, per-fan
limit, hold record, expiry index, sold-out flag: everything the real gate does), and
again with the Postgres mirror row the hold endpoint also writes before it answers:
through purchase.row_batcher (many holds per commit, as the endpoint does now; the
rows per commit are printed) and, for reference, one INSERT + COMMIT per hold (the
design before). Postgres side: one transaction per hold: lock the tier row, check and
decrement its stock, insert the hold row, commit (fsync on, as in production).
Goals: reserve_hold >= 10x, and the whole hold path (gate + batched mirror) >= 10x.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, Table, Text, insert, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.db import create_engine
from core.redis_client import close_redis, create_redis
from core.redis_keys import DropKeys
from core.scripts import ScriptRegistry
from loadtest.bench_purchase_kit import figure, note, servers
from purchase import inventory
from purchase.inventory import HoldItem, LedgerView
from purchase.row_batcher import RowBatcher

DROP_ID = 990_001
TIER_ID = 1
STOCK = 100_000_000
MIRROR = Table("bench_hold_mirror", MetaData(), Column("id", Text, primary_key=True),
               Column("fan", Integer), Column("items", JSON),
               Column("expires_at", DateTime(timezone=True)))


async def _run(clients: int, seconds: float, one: Callable[[int], Awaitable[None]]) -> float:
    done = 0
    end = time.monotonic() + seconds

    async def client(number: int) -> None:
        nonlocal done
        while time.monotonic() < end:
            await one(number)
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return done / (time.monotonic() - started)


async def bench_redis(redis_url: str, database_url: str, *, clients: int, seconds: float,
                      pool: int, mirror: str = "") -> tuple[float, float]:
    """Holds/s, and mirror rows per commit ("batched" / "each" mirror, or none)."""
    redis = create_redis(redis_url, max_connections=pool)
    scripts = ScriptRegistry(redis)
    keys = DropKeys(DROP_ID)
    for key in (keys.stock_hash, keys.fan_counts, keys.holds, keys.hold_expiry, keys.passes,
                keys.active):
        await redis.delete(key)
    now_ms = int(time.time() * 1000)
    await inventory.set_stock(scripts, keys, LedgerView(room={TIER_ID: STOCK}, bought={},
                                                        ticketed=[], holds={}), now_ms=now_ms)
    await redis.hset(keys.passes, mapping={str(fan): f"pass-{fan}" for fan in range(clients)})
    await redis.zadd(keys.active, {str(fan): now_ms + 3_600_000 for fan in range(clients)})
    engine = create_engine(database_url, pool_size=pool, max_overflow=0)
    batcher = RowBatcher(async_sessionmaker(engine), insert(MIRROR))
    if mirror:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS bench_hold_mirror"))
            await conn.execute(text("CREATE TABLE bench_hold_mirror (id text PRIMARY KEY, "
                                    "fan int, items jsonb, expires_at timestamptz)"))
    expires = datetime.now(UTC) + timedelta(minutes=10)

    async def hold(fan: int) -> None:
        hold_id = str(uuid.uuid4())
        await inventory.reserve_hold(
            scripts, keys, hold_id=hold_id, fan_id=fan, pass_id=f"pass-{fan}",
            items=[HoldItem(TIER_ID, 1, STOCK)], now_ms=int(time.time() * 1000),
            expires_ms=now_ms + 600_000)
        row = {"id": hold_id, "fan": fan, "items": [{"tier_id": 1, "quantity": 1}],
               "expires_at": expires}
        if mirror == "batched":
            await batcher.write(row)
        elif mirror == "each":
            async with engine.begin() as conn:
                await conn.execute(insert(MIRROR), row)

    try:
        rate = await _run(clients, seconds, hold)
        return rate, batcher.rows / max(1, batcher.batches)
    finally:
        await engine.dispose()
        for key in (keys.holds, keys.hold_expiry, keys.fan_counts):
            await redis.delete(key)
        await close_redis(redis)


async def bench_postgres(database_url: str, *, clients: int, seconds: float, pool: int) -> float:
    engine = create_engine(database_url, pool_size=pool, max_overflow=0)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE IF EXISTS bench_hold, bench_tier"))
        await conn.execute(text("CREATE TABLE bench_tier (id int PRIMARY KEY, stock int NOT NULL)"))
        await conn.execute(text("CREATE TABLE bench_hold (id text PRIMARY KEY, fan int, "
                                "tier int, quantity int, expires_at timestamptz)"))
        await conn.execute(text("INSERT INTO bench_tier VALUES (:id, :stock)"),
                           {"id": TIER_ID, "stock": STOCK})
    expires = datetime.now(UTC) + timedelta(minutes=10)

    async def hold(fan: int) -> None:
        async with engine.begin() as conn:
            locked = await conn.execute(
                text("SELECT stock FROM bench_tier WHERE id = :id FOR UPDATE"), {"id": TIER_ID})
            stock = locked.scalar()
            if stock is None or stock < 1:
                raise RuntimeError("bench tier sold out")
            await conn.execute(text("UPDATE bench_tier SET stock = stock - 1 WHERE id = :id"),
                               {"id": TIER_ID})
            await conn.execute(text("INSERT INTO bench_hold VALUES (:id, :fan, :tier, 1, :exp)"),
                               {"id": str(uuid.uuid4()), "fan": fan, "tier": TIER_ID,
                                "exp": expires})

    try:
        return await _run(clients, seconds, hold)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS bench_hold, bench_tier, "
                                    "bench_hold_mirror"))
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--pool", type=int, default=50,
                        help="connections per side (Postgres allows 100 by default)")
    args = parser.parse_args()
    common = {"clients": args.clients, "seconds": args.seconds, "pool": args.pool}
    with servers() as (redis_url, database_url):
        postgres = asyncio.run(bench_postgres(database_url, **common))
        gate, _ = asyncio.run(bench_redis(redis_url, database_url, **common))
        batched, per_commit = asyncio.run(bench_redis(redis_url, database_url,
                                                      mirror="batched", **common))
        each, _ = asyncio.run(bench_redis(redis_url, database_url, mirror="each", **common))
    note(f"Postgres SELECT ... FOR UPDATE on the hot tier row: {postgres:,.0f} holds/s "
         f"({args.clients} clients, {args.pool} connections)")
    figure("reserve_hold (Lua gate)", gate, "holds/s", gate / postgres,
           "Postgres SELECT FOR UPDATE on the tier row, same 500 clients", ">= 10")
    note(f"batched mirror: {per_commit:,.1f} hold rows per commit")
    figure("reserve_hold + Postgres mirror row, batched (the hold path)", batched, "holds/s",
           batched / postgres, "Postgres SELECT FOR UPDATE on the tier row, same 500 clients",
           ">= 10")
    figure("reserve_hold + mirror row, one commit per hold (before)", each, "holds/s",
           each / postgres, "Postgres SELECT FOR UPDATE on the tier row, same 500 clients")


if __name__ == "__main__":
    main()

"""The typed services of one TicketQ process, built in one place.

`open_services` is the only code that knows every concrete dependency: the Redis client
(single node or Cluster), the script registry, the database engine and its sessions, the
clock, the Stripe clients and the ticket-signing key ring. The gateway's lifespan, the
worker, the CLI's commands and the tests all enter it; nothing else builds a connection
for them. Parts receive only the fields their functions name.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio.cluster import RedisCluster
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.db import create_engine, create_sessionmaker, pool_size_for_cores
from core.keys import ticket_signing_seed
from core.redis_client import RedisClient, close_redis, create_redis
from core.scripts import ScriptRegistry
from core.settings import Settings
from lottery.payments import HeldPayments
from payments.stripe_client import StripeClient, from_settings
from purchase.context import PurchaseContext
from scanner.keyring import KeyRing

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    redis: RedisClient
    scripts: ScriptRegistry
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # The one Stripe client of the process; None when STRIPE_API_KEY is unset.
    stripe: StripeClient | None
    # Direct sales: inventory gate, holds, the order ledger (paying through `stripe`).
    purchase: PurchaseContext
    # Lottery entries' authorisation holds; None when STRIPE_API_KEY is unset.
    lottery_payments: HeldPayments | None
    # Ticket QR signing and verification keys (per event, derived from one seed).
    ticket_keyring: KeyRing


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, *, clock: Clock = utcnow, db_pool_size: int | None = None
) -> AsyncIterator[Services]:
    """Connections for one process, closed in reverse order on the way out. The pools
    follow the settings (TICKETQ_DB_POOL_SIZE & co.); `db_pool_size` overrides the size
    for a process that needs fewer (the worker)."""
    if not settings.redis_url or not settings.database_url:
        raise ValueError("open_services needs settings with redis_url and database_url")
    redis = create_redis(settings.redis_url, cluster=settings.redis_cluster,
                         max_connections=settings.redis_max_connections,
                         pool_timeout_s=settings.redis_pool_timeout_s)
    if isinstance(redis, RedisCluster):
        # A fresh cluster client hit by a burst before it has learnt the slots fails some
        # of those calls (redis-py 8.1); learn them before the first request arrives.
        await redis.initialize()
    engine = create_engine(
        settings.database_url,
        pool_size=db_pool_size or pool_size_for_cores(settings.db_pool_size),
        max_overflow=settings.db_max_overflow, pool_timeout_s=settings.db_pool_timeout_s,
    )
    sessionmaker = create_sessionmaker(engine)
    scripts = ScriptRegistry(redis)
    stripe = from_settings(settings)
    purchase = PurchaseContext(settings=settings, scripts=scripts, sessionmaker=sessionmaker,
                               stripe=stripe, clock=clock)
    lottery_payments = HeldPayments(stripe) if stripe is not None else None
    seed = ticket_signing_seed(settings.keys_dir, create=not settings.is_production)
    try:
        yield Services(
            settings=settings, clock=clock, redis=redis, scripts=scripts, engine=engine,
            sessionmaker=sessionmaker, stripe=stripe, purchase=purchase,
            lottery_payments=lottery_payments,
            ticket_keyring=KeyRing(seed),
        )
    finally:
        if stripe is not None:
            await stripe.aclose()
        await close_redis(redis)
        await engine.dispose()

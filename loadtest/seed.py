"""Seed a rehearsal: a venue, an event with GA and VIP tiers, a drop, and the crowd's accounts.

Fan and bot accounts are inserted in bulk with one shared password hash and a
bearer token minted with the gateway's own secret, as if every fan had signed
in the day before. Hashing a password costs ~50 ms of scrypt per account (on
purpose), so signing thousands of fans up through the API would measure scrypt,
not the drop; `--login-share` and `--signup-share` send that share of fans
through the real sign-in and sign-up endpoints.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

import catalog
from accounts.passwords import hash_password
from accounts.tokens import TokenSigner
from core.clock import to_ms, utcnow
from core.db import create_engine, create_sessionmaker
from core.models import Role, User
from core.settings import Settings
from loadtest.config import Account

PASSWORD = "rehearsal-password"
# name: (share of the tickets, price in cents, per-fan limit)
TIERS = {"GA": (0.9, 4500, 4), "VIP": (0.1, 14900, 2)}


@dataclass
class DropSpec:
    tickets: int
    fans: int
    bots: int
    opens_in_s: float
    duration_s: int
    admit_per_minute: int
    max_active: int
    session_seconds: int = 60
    hold_seconds: int = 60
    stride: int = 1  # Locust processes sharing the accounts out (loadtest.config.Plan.stride)


@dataclass
class Seeded:
    drop_id: int
    event_id: int
    tier_ids: dict[str, int]
    capacity: dict[str, int]
    per_fan_limit: dict[str, int]
    opens_at_ms: int
    closes_at_ms: int
    fans: list[Account]
    bots: list[Account]
    venue_token: str


def split_tickets(tickets: int) -> dict[str, int]:
    """90 % GA and 10 % VIP; a drop of under 10 tickets is GA only."""
    if tickets < 10:
        return {"GA": tickets}
    vip = max(1, math.floor(tickets * TIERS["VIP"][0]))
    return {"GA": tickets - vip, "VIP": vip}


async def seed_drop(settings: Settings, spec: DropSpec) -> Seeded:
    engine = create_engine(settings.database_url or "", pool_size=2)
    signer = TokenSigner(settings.secret_key, settings.token_ttl_seconds)
    run = secrets.token_hex(4)
    password_hash = hash_password(PASSWORD)
    now = utcnow()
    capacity = split_tickets(spec.tickets)
    opens_at = now + timedelta(seconds=spec.opens_in_s)
    closes_at = now + timedelta(seconds=spec.duration_s)
    sale = catalog.SaleSpec(
        venue=f"Rehearsal Hall {run}",
        event=f"Rehearsal {run}",
        starts_at=now + timedelta(days=30),
        ends_at=now + timedelta(days=30, hours=3),
        description="A simulated drop (ticketq simulate).",
        tiers=tuple(
            catalog.TierSpec(name, TIERS[name][1], count, TIERS[name][2])
            for name, count in capacity.items()
        ),
        schedule=catalog.DropSchedule(
            mode="direct",
            prequeue_opens_at=now - timedelta(seconds=1),
            opens_at=opens_at,
            closes_at=max(closes_at, opens_at + timedelta(seconds=10)),
            admit_per_minute=spec.admit_per_minute,
            max_active=spec.max_active,
            session_seconds=spec.session_seconds,
            hold_seconds=spec.hold_seconds,
        ),
        accounts=(
            catalog.AccountSpec(
                f"venue-{run}@loadtest.invalid", "Rehearsal Venue", Role.VENUE_ADMIN,
                password_hash,
            ),
        ),
    )
    try:
        async with create_sessionmaker(engine)() as session:
            seeded = await catalog.seed_sale(session, sale)
            # Locust workers take every stride-th account and may get one user more than
            # their share, so a little slack keeps every fan on a seeded account.
            slack = spec.stride - 1
            fans = await _accounts(session, signer, f"fan-{run}", spec.fans + slack, password_hash)
            # Bots come in pairs (the cheater and a partner to share passes with).
            bot_count = 2 * spec.bots * spec.stride
            bots = await _accounts(session, signer, f"bot-{run}", bot_count, password_hash)
            return Seeded(
                drop_id=seeded.drop_id,
                event_id=seeded.event_id,
                tier_ids=seeded.tier_ids,
                capacity=capacity,
                per_fan_limit={name: TIERS[name][2] for name in capacity},
                opens_at_ms=to_ms(seeded.drop.opens_at),
                closes_at_ms=to_ms(seeded.drop.closes_at),
                fans=fans,
                bots=bots,
                venue_token=signer.issue(next(iter(seeded.account_ids.values()))),
            )
    finally:
        await engine.dispose()


async def _accounts(
    session: AsyncSession, signer: TokenSigner, prefix: str, count: int, password_hash: str
) -> list[Account]:
    accounts: list[Account] = []
    verified_at = utcnow()  # simulated fans are verified, so verified-only drops rehearse too
    for start in range(0, count, 1000):
        rows = [
            {
                "email": f"{prefix}-{index}@loadtest.invalid",
                "name": f"Sim {index}",
                "password_hash": password_hash,
                "role": Role.FAN,
                "email_verified_at": verified_at,
            }
            for index in range(start, min(count, start + 1000))
        ]
        result = await session.execute(insert(User).returning(User.id, User.email), rows)
        accounts += [Account(id=uid, email=email, token=signer.issue(uid)) for uid, email in result]
    await session.commit()
    return accounts


async def seed_bench_sale(
    session: AsyncSession,
    tier: catalog.TierSpec,
    *,
    mode: str = "direct",
    starts_in: timedelta = timedelta(days=30),
    open_for: timedelta = timedelta(hours=1),
    max_active: int = 100,
    session_seconds: int = 600,
    accounts: tuple[catalog.AccountSpec, ...] = (),
) -> catalog.SeededSale:
    """A benchmark's sale: one tier, a drop open since a minute ago, fresh names each call
    (so seeding never reuses an earlier run's tier), and a venue admin nobody signs in as."""
    run = secrets.token_hex(4)
    now = utcnow()
    admin = catalog.AccountSpec(f"bench-venue-{run}@bench.test", "Bench Venue",
                                Role.VENUE_ADMIN, "x")
    return await catalog.seed_sale(session, catalog.SaleSpec(
        venue=f"Bench Hall {run}",
        event=f"Bench {run}",
        starts_at=now + starts_in,
        ends_at=now + starts_in + timedelta(hours=3),
        tiers=(tier,),
        schedule=catalog.DropSchedule(
            mode=mode,
            prequeue_opens_at=now - timedelta(hours=1),
            opens_at=now - timedelta(minutes=1),
            closes_at=now + open_for,
            admit_per_minute=600,
            max_active=max_active,
            session_seconds=session_seconds,
            # Benchmarks measure the line, not the proof-of-work: their drops ask none.
            challenge_difficulty=0,
        ),
        accounts=(admin, *accounts),
    ))

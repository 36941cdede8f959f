"""Lottery fixtures: a gateway wired to a real localstripe, and helpers that set drops up."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from core.models import Drop, User
from core.settings import Settings
from gateway.context import app_services
from lottery.models import LotteryDrop
from lottery.payments import HeldPayments
from payments.stripe_client import StripeClient
from payments.stripe_http import StripeHTTP
from tests.support.api import DropSetup, create_drop_setup
from tests.support.apps import api_client, running_app

STRIPE_KEY = "sk_test_lottery"


@pytest.fixture(scope="session")
def stripe_settings(settings: Settings, localstripe_url: str) -> Settings:
    return settings.replace(stripe_api_key=STRIPE_KEY, stripe_api_base=localstripe_url)


@pytest.fixture(scope="session")
async def lottery_app(stripe_settings: Settings) -> AsyncIterator[Starlette]:
    async with running_app(stripe_settings) as application:
        yield application


@pytest.fixture
async def api(lottery_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(lottery_app) as http:
        yield http


@pytest.fixture
def db(lottery_app: Starlette) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app_services(lottery_app).sessionmaker
    return maker


@pytest.fixture
async def payments(localstripe_url: str) -> AsyncIterator[HeldPayments]:
    client = StripeClient(STRIPE_KEY, api_base=localstripe_url)
    yield HeldPayments(client)
    await client.aclose()


@pytest.fixture
async def stripe_client(localstripe_url: str) -> AsyncIterator[stripe.StripeClient]:
    http = StripeHTTP()
    yield stripe.StripeClient(STRIPE_KEY, base_addresses={"api": localstripe_url},
                              http_client=http)
    await http.close_async()


@dataclass
class Lottery:
    setup: DropSetup
    drop_id: int
    config: dict[str, Any]

    @property
    def ga(self) -> int:
        return self.setup.tier_ids["GA"]


async def make_lottery(
    api: httpx.AsyncClient, *, capacity: int = 10, per_fan_limit: int = 4,
    max_quantity: int = 2, price_cents: int = 5000, open_for: timedelta = timedelta(hours=1),
    draw_after_close: timedelta = timedelta(0), **config: Any,
) -> Lottery:
    tiers = {"GA": {"price_cents": price_cents, "currency": "EUR", "capacity": capacity,
                    "per_fan_limit": per_fan_limit}}
    setup = await create_drop_setup(api, mode="lottery", tiers=tiers, open_for=open_for)
    drop = (await api.get(f"/api/drops/{setup.drop_id}")).json()
    closes_at = datetime.fromisoformat(drop["closes_at"].replace("Z", "+00:00"))
    body = {"draw_at": (closes_at + draw_after_close).isoformat(),
            "max_quantity_per_entry": max_quantity, **config}
    response = await api.put(f"/api/drops/{setup.drop_id}/lottery", json=body,
                             headers=setup.admin.headers)
    assert response.status_code == 200, response.text
    return Lottery(setup=setup, drop_id=setup.drop_id, config=response.json())


async def make_fans(db: async_sessionmaker[AsyncSession], count: int) -> list[int]:
    """Fan accounts straight in the database (signing up hashes passwords: too slow for 300)."""
    async with db() as session:
        users = [User(email=f"fan-{secrets.token_hex(6)}@example.test", name="Fan",
                      password_hash="unusable", role="fan") for _ in range(count)]
        session.add_all(users)
        await session.commit()
        return [user.id for user in users]


async def times(db: async_sessionmaker[AsyncSession], drop_id: int) -> tuple[datetime, datetime]:
    """(closes_at, draw_at) of a lottery drop."""
    async with db() as session:
        drop = await session.get(Drop, drop_id)
        lottery = await session.get(LotteryDrop, drop_id)
        assert drop is not None and lottery is not None
        return drop.closes_at, lottery.draw_at


def now() -> datetime:
    return datetime.now(UTC)


async def enter_many(db: async_sessionmaker[AsyncSession], payments: HeldPayments,
                     lottery: Lottery, quantities: list[int], *, concurrency: int = 8,
                     payment_method: str = "pm_card_visa") -> list[str]:
    """One entry per new fan (quantities[i] seats each), through the real entry service."""
    from lottery.entries import enter_lottery

    fans = await make_fans(db, len(quantities))
    gate = asyncio.Semaphore(concurrency)

    async def enter(fan_id: int, quantity: int) -> str:
        async with gate:
            entry = await enter_lottery(db, payments, user_id=fan_id, drop_id=lottery.drop_id,
                                        tier_id=lottery.ga, quantity=quantity,
                                        payment_method=payment_method, clock=now)
            return entry.id

    return list(await asyncio.gather(*(enter(f, q) for f, q in zip(fans, quantities, strict=True))))


async def seal_and_draw(db: async_sessionmaker[AsyncSession], drop_id: int) -> datetime:
    """Seal and draw as the worker would once due; the moment used (after draw_at)."""
    from lottery import lifecycle

    closes_at, draw_at = await times(db, drop_id)
    moment = max(closes_at, draw_at) + timedelta(seconds=1)
    outcome = await lifecycle.advance(db, drop_id, moment)
    assert outcome == {"sealed": True, "drawn": True}
    return moment


async def settle_only(db: async_sessionmaker[AsyncSession], drop_id: int) -> None:
    """Mark the other lotteries that earlier tests left drawn as settled, so a real worker
    started now settles (and mails) only this one, without waiting on theirs."""
    async with db() as session:
        await session.execute(update(LotteryDrop).where(LotteryDrop.drop_id != drop_id,
                                                        LotteryDrop.state == "drawn")
                              .values(state="settled"))
        await session.commit()

"""A gateway wired to localstripe, with a clock the tests move, and fans holding live passes."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette

from core.clock import to_ms
from core.settings import Settings
from gateway.context import app_services
from purchase.context import PurchaseContext
from purchase.demo_stripe import register_webhook
from tests.purchase.passes import grant_pass
from tests.support.api import Account, DropSetup, create_drop_setup, sign_up
from tests.support.apps import api_client, running_app
from tests.support.processes import RunningProcess, gateway_process, service_env
from tests.support.services import TestServices as Services

WEBHOOK_SECRET = "whsec_purchase_tests"


class TestClock:
    """The app's clock: real time plus an offset the test can move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def purchase_settings(settings: Settings, localstripe_url: str) -> Settings:
    return settings.replace(stripe_api_key="sk_test_purchase",
                             stripe_api_base=localstripe_url,
                             stripe_webhook_secret=WEBHOOK_SECRET)


@pytest.fixture(scope="session")
def clock() -> TestClock:
    return TestClock()


@pytest.fixture(scope="session")
async def purchase_app(purchase_settings: Settings, clock: TestClock) -> AsyncIterator[Starlette]:
    async with running_app(purchase_settings, clock=clock) as application:
        yield application


@pytest.fixture
def ctx(purchase_app: Starlette, clock: TestClock) -> PurchaseContext:
    clock.offset = timedelta()
    context: PurchaseContext = app_services(purchase_app).purchase
    return context


@pytest.fixture
async def api(purchase_app: Starlette, ctx: PurchaseContext) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(purchase_app, timeout=60) as http:
        yield http


@dataclass
class Fan:
    account: Account
    admission_pass: str

    @property
    def headers(self) -> dict[str, str]:
        return {**self.account.headers, "X-Admission-Pass": self.admission_pass}


@dataclass
class Shop:
    """A drop on sale and helpers to bring fans into it."""

    api: httpx.AsyncClient
    setup: DropSetup
    ctx: PurchaseContext
    clock: TestClock

    @property
    def drop_id(self) -> int:
        return self.setup.drop_id

    def tier(self, name: str) -> int:
        return self.setup.tier_ids[name]

    async def fan(self, prefix: str = "fan") -> Fan:
        account = await sign_up(self.api, prefix)
        return await self.admit(account)

    async def admit(self, account: Account) -> Fan:
        token, _ = await grant_pass(self.ctx.scripts.client, self.ctx.settings.secret_key,
                                    self.drop_id, account.id, now_ms=to_ms(self.clock()))
        return Fan(account, token)

    async def hold(self, fan: Fan, **quantities: int) -> httpx.Response:
        items = [{"tier_id": self.tier(name), "quantity": n} for name, n in quantities.items()]
        return await self.api.post(f"/api/drops/{self.drop_id}/holds", headers=fan.headers,
                                   json={"items": items})

    async def pay(self, fan: Fan, hold_id: str, card: str = "pm_card_visa") -> httpx.Response:
        return await self.api.post(f"/api/holds/{hold_id}/checkout", headers=fan.account.headers,
                                   json={"payment_method": card})

    async def stock(self) -> dict[int, int]:
        from core.redis_keys import DropKeys
        from purchase.inventory import read_stock

        return await read_stock(self.ctx.scripts, DropKeys(self.drop_id))


@pytest.fixture
async def shop(api: httpx.AsyncClient, ctx: PurchaseContext, clock: TestClock) -> Shop:
    setup = await create_drop_setup(api, tiers={
        "GA": {"price_cents": 5000, "currency": "EUR", "capacity": 20, "per_fan_limit": 4},
        "VIP": {"price_cents": 15000, "currency": "EUR", "capacity": 4, "per_fan_limit": 2},
    })
    return Shop(api, setup, ctx, clock)


def signed(payload: dict[str, Any], *, secret: str = WEBHOOK_SECRET,
           timestamp: int | None = None) -> tuple[bytes, str]:
    body = json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=int(time.time()) if timestamp is None else timestamp)
    return body.encode(), header


@pytest.fixture
def paying_gateway(services: Services, localstripe_url: str) -> Iterator[RunningProcess]:
    env = service_env(services.redis_url, services.database_url,
                      STRIPE_API_KEY="sk_test_purchase", STRIPE_API_BASE=localstripe_url,
                      STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    with gateway_process(env, services.folder / "logs") as proc:
        register_webhook(localstripe_url, proc.url, WEBHOOK_SECRET, name="purchase-live")
        try:
            yield proc
        finally:  # stop sending this session's other events to a gateway that is gone
            register_webhook(localstripe_url, proc.url, WEBHOOK_SECRET, name="purchase-live",
                             events=["ticketq.nothing"])

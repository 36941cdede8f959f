"""Sign-in and sign-up limits, attacked through the real app (security findings 4 and 5).

The app here runs on a frozen clock (time is an input), so no window ends mid-test, and
with the loopback exemption off; each test uses addresses and emails of its own, since
counters live in the shared test Redis.
"""

from __future__ import annotations

import ipaddress
import random
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from accounts.limits import Client
from core.settings import Settings
from tests.support.api import sign_up, unique_email
from tests.support.apps import running_app

# Mid-window for every window used here, on a day no other run shares (fresh counters).
FROZEN = datetime(2031, 1, 1, 0, 0, 30, tzinfo=UTC) + timedelta(days=random.randrange(10**5))


@pytest.fixture(scope="module")
async def limited_app(settings: Settings) -> AsyncIterator[Starlette]:
    strict = settings.replace(
        auth_limit_exempt_networks="", signin_failures_per_account=3,
        signin_per_ip_per_minute=6, signup_per_ip_per_hour=2, signup_per_network_per_hour=3,
    )
    async with running_app(strict, clock=lambda: FROZEN) as application:
        yield application


def random_ipv4() -> str:
    return str(ipaddress.IPv4Address(secrets.randbits(24) | (10 << 24)))  # in 10.0.0.0/8


@asynccontextmanager
async def client_from(app: Starlette, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def _login(http: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await http.post("/api/auth/login", json={"email": email, "password": password})


async def test_wrong_passwords_lock_the_account_even_for_the_right_one(
    limited_app: Starlette, client: httpx.AsyncClient
) -> None:
    account = await sign_up(client)
    attacker_address = random_ipv4()
    async with client_from(limited_app, attacker_address) as attacker:
        for _ in range(3):
            assert (await _login(attacker, account.email, "guess guess")).status_code == 401
        locked = await _login(attacker, account.email, account.password)
    assert locked.status_code == 429, locked.text
    assert int(locked.headers["retry-after"]) >= 1
    assert locked.headers["content-type"].startswith("application/problem+json")
    # From another address too: the limit is the account's, not the attacker's.
    async with client_from(limited_app, random_ipv4()) as owner:
        assert (await _login(owner, account.email, account.password)).status_code == 429
    # Another account is untouched.
    other = await sign_up(client)
    async with client_from(limited_app, attacker_address) as attacker:
        assert (await _login(attacker, other.email, other.password)).status_code == 200


async def test_unknown_emails_lock_exactly_like_known_ones(limited_app: Starlette) -> None:
    email = unique_email("ghost")
    async with client_from(limited_app, random_ipv4()) as attacker:
        answers = [(await _login(attacker, email, "guess guess")).status_code for _ in range(4)]
    assert answers == [401, 401, 401, 429]


async def test_one_address_is_limited_across_accounts(limited_app: Starlette) -> None:
    async with client_from(limited_app, random_ipv4()) as sprayer:
        answers = [(await _login(sprayer, unique_email(), "guess guess")).status_code
                   for _ in range(7)]
    assert answers == [401] * 6 + [429]
    async with client_from(limited_app, random_ipv4()) as neighbour:
        assert (await _login(neighbour, unique_email(), "guess guess")).status_code == 401


def _signup_body() -> dict[str, str]:
    return {"email": unique_email(), "password": "long enough pw", "name": "Fan"}


async def test_sign_ups_are_limited_per_address(limited_app: Starlette) -> None:
    async with client_from(limited_app, random_ipv4()) as farm:
        answers = [(await farm.post("/api/auth/signup", json=_signup_body())).status_code
                   for _ in range(3)]
        assert answers == [202, 202, 429]
        refused = await farm.post("/api/auth/signup", json=_signup_body())
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


async def test_sign_ups_are_limited_per_network(limited_app: Starlette) -> None:
    network = ipaddress.IPv6Network(f"2001:db8:{secrets.randbits(16):x}::/56", strict=False)
    addresses = [str(network[secrets.randbits(72)]) for _ in range(4)]
    answers = []
    for address in addresses:  # a new address each time, the same /56
        async with client_from(limited_app, address) as farm:
            answers.append((await farm.post("/api/auth/signup", json=_signup_body())).status_code)
    assert answers == [202, 202, 202, 429]


async def test_exempt_networks_skip_address_limits(settings: Settings) -> None:
    exempt = settings.replace(auth_limit_exempt_networks="192.0.2.0/24, ::1/128")
    assert Client("192.0.2.9").exempt(exempt) and Client("::1").exempt(exempt)
    assert not Client("192.0.3.9").exempt(exempt) and not Client(None).exempt(exempt)
    assert not Client("127.0.0.1").exempt(settings.replace(auth_limit_exempt_networks=""))


def test_networks_are_the_24_of_ipv4_and_the_56_of_ipv6() -> None:
    assert Client("203.0.113.77").network() == "203.0.113.0/24"
    assert Client("2001:db8:1:2ff:1::1").network() == "2001:db8:1:200::/56"
    assert Client("not an address").network() == Client(None).network() == "unknown"


def test_a_malformed_exempt_network_refuses_to_start(settings: Settings) -> None:
    from core.settings import SettingsError

    with pytest.raises(SettingsError, match="TICKETQ_AUTH_LIMIT_EXEMPT_NETWORKS"):
        settings.replace(auth_limit_exempt_networks="10.0.0.0/8, nonsense")

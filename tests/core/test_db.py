"""The engine's pool hands out only live connections (no pre-ping round trip), and the
hot path's psycopg transactions commit or roll back as a whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import (
    create_engine,
    driver_statement,
    driver_transaction,
    libpq_url,
    sqlalchemy_url,
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    one = create_engine(database_url, pool_size=1, max_overflow=0)
    yield one
    await one.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(database_url: str, pid: int) -> None:
    """What a Postgres restart does to each client: a FATAL error, then the socket closes."""
    with psycopg.connect(libpq_url(sqlalchemy_url(database_url)), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
        for _ in range(200):
            if admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s",
                             [pid]).fetchone() is None:
                return
            await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} still running")


async def test_a_live_connection_is_handed_out_again(engine: AsyncEngine) -> None:
    assert await _backend_pid(engine) == await _backend_pid(engine)


async def test_a_connection_the_server_closed_is_replaced_at_checkout(
        engine: AsyncEngine, database_url: str) -> None:
    before = await _backend_pid(engine)
    await _terminate(database_url, before)
    # Without the checkout check (and with no pre-ping) this would raise OperationalError.
    assert await _backend_pid(engine) != before


async def test_the_hot_path_checkout_replaces_a_closed_connection_too(
        engine: AsyncEngine, database_url: str) -> None:
    before = await _backend_pid(engine)
    await _terminate(database_url, before)
    async with driver_transaction(engine) as conn:
        row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
    assert row is not None and row[0] != before


async def test_a_driver_transaction_commits_all_or_nothing(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS t (n int) "
                                      "ON COMMIT PRESERVE ROWS"))
    async with driver_transaction(engine) as conn:
        await conn.execute("INSERT INTO t VALUES (1)")
        await conn.execute("INSERT INTO t VALUES (2)")
    with pytest.raises(psycopg.errors.DivisionByZero):
        async with driver_transaction(engine) as conn:
            await conn.execute("INSERT INTO t VALUES (3)")
            await conn.execute("SELECT 1 / 0")
    # The pool has one connection (the temporary table's): it is usable after the error.
    async with driver_transaction(engine) as conn:
        rows = await (await conn.execute("SELECT n FROM t ORDER BY n")).fetchall()
    assert rows == [(1,), (2,)]


async def test_a_driver_transaction_left_by_an_exception_rolls_back(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS u (n int) "
                                      "ON COMMIT PRESERVE ROWS"))
    with pytest.raises(LookupError):
        async with driver_transaction(engine) as conn:
            await conn.execute("INSERT INTO u VALUES (1)")
            raise LookupError("a domain refusal mid-transaction (e.g. TierFull)")
    # The same (only) connection comes back out of autocommit, as sessions expect it.
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM u"))).scalar_one() == 0
        assert not (await connection.get_raw_connection()).driver_connection.autocommit


async def test_a_single_statement_commits_on_its_own(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS v (n int) "
                                      "ON COMMIT PRESERVE ROWS"))
    async with driver_statement(engine) as conn:
        await conn.execute("INSERT INTO v VALUES (1)")
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM v"))).scalar_one() == 1

"""The one engine factory and session maker (SQLAlchemy 2.0 async on psycopg 3).

The paid-order path's hot statements skip SQLAlchemy's execution layer: written once as
SQL in the module that owns each rule, they run on a pooled connection's own psycopg
connection (`driver_transaction`, `driver_of`), in pipeline mode, so BEGIN, the
statements and COMMIT go out together and the round trips are the ones whose answers
the code waits for. SQLAlchemy still owns the pool (its size, its timeout, its liveness
check at checkout) and every other statement. Measured in docs/performance.md ("The
order path"): building and cache-keying each statement, the Session's bookkeeping and
one round trip per statement were most of an order's CPU.
"""

from __future__ import annotations

import select
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from core.cpus import usable_cores


def sqlalchemy_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (as most tools print them) and pick psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def libpq_url(url: str) -> str:
    """The same URL as libpq and psql understand it (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def pool_size_for_cores(configured: int = 0) -> int:
    """`configured`, or two connections per core when 0: Postgres does its best work with
    about two busy backends per core, and a process cannot keep more than that busy.
    Cores are the process's share (a container's CPU limit), not the machine's."""
    return configured or 2 * usable_cores()


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 20, pool_timeout_s: float = 30.0
) -> AsyncEngine:
    # hide_parameters: a failed statement's error (and so any log line or traceback that
    # carries it) shows the SQL but not the bound values: password hashes, emails, tokens.
    # pool_timeout: past it the checkout raises sqlalchemy.exc.TimeoutError, which the
    # gateway answers with 503 + Retry-After (gateway/errors.py).
    # No pre-ping (a `SELECT 1` round trip per checkout, one per transaction): the
    # checkout listener below finds a dead connection without a round trip.
    engine = create_async_engine(
        sqlalchemy_url(url), pool_size=pool_size, max_overflow=max_overflow,
        pool_timeout=pool_timeout_s, hide_parameters=True,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_dead_connection)
    return engine


def connection_is_dead(driver: psycopg.AsyncConnection[Any]) -> bool:
    """Whether an idle pooled connection can no longer be used, without a round trip.

    An idle connection has nothing to read: the server sends nothing between queries
    unless it is going away (a restart or `pg_terminate_backend` sends a FATAL error and
    closes the socket; a crash closes it), so a readable socket, a hang-up or an error
    on it means dead. A false alarm would only cost a new connection."""
    if driver.closed or driver.broken:
        return True
    poller = select.poll()
    poller.register(driver.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _refuse_dead_connection(dbapi_connection: Any, record: Any,
                            proxy: PoolProxiedConnection) -> None:
    """The pool's checkout listener: a dead connection is replaced before it is handed out
    (SQLAlchemy reconnects the pool slot when a listener raises DisconnectionError),
    so a Postgres restart costs no request an error."""
    if connection_is_dead(dbapi_connection.driver_connection):
        raise exc.DisconnectionError("the server closed this pooled connection")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# A pooled connection's psycopg connection (rows come back as tuples).
DriverConnection = psycopg.AsyncConnection[Any]


def engine_of(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine `create_sessionmaker` bound the sessions to."""
    engine = sessionmaker.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


@asynccontextmanager
async def _autocommit_connection(engine: AsyncEngine) -> AsyncIterator[DriverConnection]:
    """A pooled connection's psycopg connection in autocommit mode, for as long as the block
    runs. The pool's own connection (Engine.raw_connection), not a Connection around it:
    the hot path needs no SQLAlchemy transaction or events, one greenlet each way. In
    autocommit psycopg sends no BEGIN and COMMIT of its own (measured: its transaction
    block costs more CPU than the statement it wraps); `driver_transaction` sends them."""
    pooled = await greenlet_spawn(engine.sync_engine.raw_connection)
    try:
        raw = pooled.driver_connection
        assert isinstance(raw, psycopg.AsyncConnection)
        await raw.set_autocommit(True)  # a client-side flag: no round trip
        try:
            yield raw
        finally:
            try:
                if raw.info.transaction_status != TransactionStatus.IDLE:
                    await raw.execute("ROLLBACK")  # the block ended mid-transaction
                await raw.set_autocommit(False)  # as SQLAlchemy's sessions expect it
            except Exception:
                # Broken, or in a state it cannot be put back from: the pool opens a new one.
                pooled.invalidate()
    finally:
        await greenlet_spawn(pooled.close)  # back to the pool (or closed, if invalidated)


@asynccontextmanager
async def driver_statement(engine: AsyncEngine) -> AsyncIterator[DriverConnection]:
    """A pooled psycopg connection on which each statement is its own transaction (one
    round trip each): for the hot path's single statements."""
    async with _autocommit_connection(engine) as raw:
        yield raw


@asynccontextmanager
async def driver_transaction(engine: AsyncEngine) -> AsyncIterator[DriverConnection]:
    """BEGIN ... COMMIT on a pooled connection's psycopg connection, in pipeline mode.

    Statements are sent without waiting for one another; reading a result (`fetchone`)
    waits for everything sent so far, and BEGIN rides with the first statement, COMMIT
    with the last, so a transaction whose results are read once costs one round trip.
    An error (raised where a result is read, or on leaving the block) rolls it all back."""
    async with _autocommit_connection(engine) as raw:
        async with raw.pipeline():
            await raw.execute("BEGIN")
            yield raw
            await raw.execute("COMMIT")


async def driver_of(session: AsyncSession) -> DriverConnection:
    """The psycopg connection of the session's transaction (the same transaction): for
    the rarer paths that run an owner's SQL statement inside an ORM unit of work."""
    raw = (await (await session.connection()).get_raw_connection()).driver_connection
    assert isinstance(raw, psycopg.AsyncConnection)
    return raw


def database_on_server(url: str, name: str) -> str:
    """The SQLAlchemy URL of database `name` on the same server as `url` (host, port,
    user and query such as a Unix-socket `?host=` kept)."""
    base, _, query = sqlalchemy_url(url).partition("?")
    scheme, _, rest = base.partition("://")
    authority = rest.partition("/")[0]
    return f"{scheme}://{authority}/{name}" + (f"?{query}" if query else "")


def recreate_database(server_url: str, name: str) -> str:
    """Drop (closing its connections) and create database `name`; return its URL.

    For tests and benchmarks, which each want a database of their own, empty.
    """
    import psycopg

    admin = libpq_url(database_on_server(server_url, "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_on_server(server_url, name)

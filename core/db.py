"""The one engine factory and session maker (SQLAlchemy 2.0 async on psycopg 3)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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
    return create_async_engine(
        sqlalchemy_url(url), pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True,
        pool_timeout=pool_timeout_s, hide_parameters=True,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


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

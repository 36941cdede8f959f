"""Alembic environment: migrations are the only way TicketQ's schema changes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from bootstrap.migrate import METADATA
from core.db import sqlalchemy_url

target_metadata = METADATA
config = context.config


def run_migrations_online() -> None:
    url = sqlalchemy_url(config.get_main_option("sqlalchemy.url") or "")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()

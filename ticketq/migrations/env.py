"""Alembic environment: migrations are the only way TicketQ's schema changes."""

from __future__ import annotations

import importlib

from alembic import context
from sqlalchemy import create_engine, pool

from ticketq.db import sqlalchemy_url
from ticketq.models import Base

# Parts that own tables of their own register them on the shared Base when imported.
for module in ("purchase.models", "lottery.models", "scanner.models"):
    try:
        importlib.import_module(module)
    except ModuleNotFoundError:
        pass

target_metadata = Base.metadata
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

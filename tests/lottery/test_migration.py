"""lottery/migrations builds exactly the tables lottery/models.py describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from core.db import sqlalchemy_url
from core.models import Base
from lottery import models

LOTTERY_TABLES = {models.LotteryDrop.__tablename__, models.LotteryEntry.__tablename__}


def _touches_lottery(diff: object) -> bool:
    text = repr(diff)
    return any(table in text for table in LOTTERY_TABLES)


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [diff for diff in compare_metadata(context, Base.metadata)
                     if _touches_lottery(diff)]
    finally:
        engine.dispose()
    assert diffs == []

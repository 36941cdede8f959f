"""catalog/migrations builds exactly what catalog/models.py and the venues model describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from catalog import models
from core.db import sqlalchemy_url
from core.models import Base, Venue


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    tables = {models.VenueInvitation.__tablename__, Venue.__tablename__}
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [diff for diff in compare_metadata(context, Base.metadata)
                     if any(table in repr(diff) for table in tables)]
    finally:
        engine.dispose()
    assert diffs == []

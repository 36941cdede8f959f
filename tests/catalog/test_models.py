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


def test_the_migration_moves_staff_roles_out_of_users_and_back(database_url: str) -> None:
    """Accounts made venue_admin or scanner by the old add_staff become fans that keep
    their venue_staff rows; existing venues are approved; downgrade restores the role."""
    import secrets

    import psycopg

    from bootstrap.migrate import downgrade, upgrade
    from core.db import libpq_url

    # To just below catalog_0001: the catalog branch only (its later revisions too).
    downgrade(database_url, "catalog_0001-1")
    email = f"old-manager-{secrets.token_hex(6)}@example.test"
    try:
        with psycopg.connect(libpq_url(database_url)) as conn:
            user = conn.execute(
                "INSERT INTO users (email, name, password_hash, role)"
                " VALUES (%s, 'Old', 'x', 'venue_admin') RETURNING id", (email,)).fetchone()[0]
            venue = conn.execute("INSERT INTO venues (name, city, timezone)"
                                 " VALUES ('Old hall', 'Lyon', 'UTC') RETURNING id").fetchone()[0]
            conn.execute("INSERT INTO venue_staff (venue_id, user_id, role)"
                         " VALUES (%s, %s, 'venue_admin')", (venue, user))
    finally:
        upgrade(database_url)
    with psycopg.connect(libpq_url(database_url)) as conn:
        assert conn.execute("SELECT role FROM users WHERE id = %s", (user,)).fetchone() == (
            "fan",)
        assert conn.execute("SELECT role FROM venue_staff WHERE user_id = %s",
                            (user,)).fetchall() == [("venue_admin",)]
        assert conn.execute("SELECT approval FROM venues WHERE id = %s", (venue,)).fetchone() \
            == ("approved",)
    downgrade(database_url, "catalog_0001-1")
    try:
        with psycopg.connect(libpq_url(database_url)) as conn:
            assert conn.execute("SELECT role FROM users WHERE id = %s",
                                (user,)).fetchone() == ("venue_admin",)
    finally:
        upgrade(database_url)

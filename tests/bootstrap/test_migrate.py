"""Migrations build the whole schema from empty, and tear it down again."""

from __future__ import annotations

import psycopg

from bootstrap.migrate import downgrade, upgrade
from core.db import libpq_url

EXPECTED_TABLES = {
    "users",
    "venues",
    "venue_staff",
    "events",
    "ticket_tiers",
    "drops",
    "audit_log",
    "holds",
    "orders",
    "tickets",
    "payments",
    "processed_webhook_events",
}


def _tables(url: str) -> set[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {row[0] for row in rows}


def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    assert EXPECTED_TABLES <= _tables(database_url)


def test_downgrade_to_base_and_back(database_url: str) -> None:
    downgrade(database_url, "base")
    assert _tables(database_url) == {"alembic_version"}
    upgrade(database_url)
    assert EXPECTED_TABLES <= _tables(database_url)


def test_ledger_refuses_to_sell_past_capacity(database_url: str) -> None:
    """The Postgres guard behind promise 1: sold can never exceed capacity."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        venue = conn.execute(
            "INSERT INTO venues (name, city, timezone) VALUES ('V', 'C', 'UTC') RETURNING id"
        ).fetchone()[0]
        event = conn.execute(
            "INSERT INTO events (venue_id, title, description, starts_at, ends_at, status) "
            "VALUES (%s, 'E', '', now() + interval '1 day', now() + interval '2 days', 'draft') "
            "RETURNING id",
            (venue,),
        ).fetchone()[0]
        tier = conn.execute(
            "INSERT INTO ticket_tiers"
            " (event_id, name, price_cents, currency, capacity, per_fan_limit)"
            " VALUES (%s, 'GA', 100, 'EUR', 2, 2) RETURNING id",
            (event,),
        ).fetchone()[0]
        updated = conn.execute(
            "UPDATE ticket_tiers SET sold = sold + 2 WHERE id = %s AND sold + 2 <= capacity",
            (tier,),
        ).rowcount
        assert updated == 1
        try:
            conn.execute("UPDATE ticket_tiers SET sold = sold + 1 WHERE id = %s", (tier,))
        except psycopg.errors.CheckViolation:
            conn.rollback()
        else:
            raise AssertionError("the capacity check constraint did not fire")

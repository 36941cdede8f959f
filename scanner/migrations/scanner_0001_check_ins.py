"""scanner: event signing keys, check-ins, scan log, offline conflicts

Revision ID: scanner_0001
Revises: 0001_foundation
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "scanner_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("scanner",)
depends_on: str | Sequence[str] | None = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "scanner_event_keys",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("status IN ('active', 'retired', 'revoked')",
                           name=op.f("ck_scanner_event_keys_status")),
        sa.CheckConstraint("key_id BETWEEN 1 AND 65535",
                           name=op.f("ck_scanner_event_keys_key_id_range")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_scanner_event_keys_event_id_events")),
        sa.PrimaryKeyConstraint("event_id", "key_id", name=op.f("pk_scanner_event_keys")),
    )
    op.create_table(
        "check_ins",
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gate", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("scanner_user_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("source IN ('online', 'offline')", name=op.f("ck_check_ins_source")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_check_ins_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_check_ins_event_id_events")),
        sa.ForeignKeyConstraint(["scanner_user_id"], ["users.id"],
                                name=op.f("fk_check_ins_scanner_user_id_users")),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_check_ins")),
    )
    op.create_index(op.f("ix_check_ins_event_id"), "check_ins", ["event_id"])
    op.create_table(
        "scan_records",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("ticket_id", sa.String(length=36), nullable=True),
        sa.Column("scanner_user_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_scan_records_event_id_events")),
        sa.ForeignKeyConstraint(["scanner_user_id"], ["users.id"],
                                name=op.f("fk_scan_records_scanner_user_id_users")),
        sa.PrimaryKeyConstraint("device_id", "nonce", name=op.f("pk_scan_records")),
    )
    op.create_index(op.f("ix_scan_records_event_id"), "scan_records", ["event_id"])
    op.create_index(op.f("ix_scan_records_ticket_id"), "scan_records", ["ticket_id"])
    op.create_table(
        "scan_conflicts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kept_gate", sa.String(length=64), nullable=False),
        sa.Column("kept_device_id", sa.String(length=64), nullable=False),
        sa.Column("lost_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lost_gate", sa.String(length=64), nullable=False),
        sa.Column("lost_device_id", sa.String(length=64), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_scan_conflicts_event_id_events")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_scan_conflicts_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_conflicts")),
    )
    op.create_index(op.f("ix_scan_conflicts_event_id"), "scan_conflicts", ["event_id"])
    op.create_index(op.f("ix_scan_conflicts_ticket_id"), "scan_conflicts", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("scan_conflicts")
    op.drop_table("scan_records")
    op.drop_table("check_ins")
    op.drop_table("scanner_event_keys")

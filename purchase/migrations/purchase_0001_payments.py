"""purchase: checkout claim, refund bookkeeping, event cancellations

Revision ID: purchase_0001
Revises: 0001_foundation
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "purchase_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("purchase",)
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("orders", sa.Column("checkout_started_at", TS, nullable=True))
    op.add_column("orders", sa.Column("paid_at", TS, nullable=True))
    op.add_column("payments", sa.Column("client_secret", sa.String(255), nullable=True))
    op.add_column("payments", sa.Column("refund_due_at", TS, nullable=True))
    op.add_column("payments", sa.Column("refund_reason", sa.String(500), nullable=True))
    op.add_column("payments", sa.Column("refund_requested_at", TS, nullable=True))
    op.add_column("payments", sa.Column("stripe_refund_id", sa.String(255), nullable=True))
    # The reconciler's two scans stay small: unsettled orders and refunds not yet landed.
    op.create_index("ix_orders_pending", "orders", ["created_at"],
                    postgresql_where=sa.text("state = 'pending'"))
    op.create_index("ix_payments_refund_open", "payments", ["refund_due_at"],
                    postgresql_where=sa.text("refund_due_at IS NOT NULL AND stripe_refund_id IS NULL"))
    op.create_index("ix_holds_active", "holds", ["drop_id", "expires_at"],
                    postgresql_where=sa.text("state = 'active'"))
    op.create_table(
        "event_cancellations",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("requested_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_event_cancellations_event_id_events")),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"],
                                name=op.f("fk_event_cancellations_requested_by_users")),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_event_cancellations")),
    )


def downgrade() -> None:
    op.drop_table("event_cancellations")
    op.drop_index("ix_holds_active", table_name="holds")
    op.drop_index("ix_payments_refund_open", table_name="payments")
    op.drop_index("ix_orders_pending", table_name="orders")
    for column in ("stripe_refund_id", "refund_requested_at", "refund_reason", "refund_due_at",
                   "client_secret"):
        op.drop_column("payments", column)
    op.drop_column("orders", "paid_at")
    op.drop_column("orders", "checkout_started_at")

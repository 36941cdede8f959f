"""catalog: staff invitations, venue approval, and venue roles out of users.role

Revision ID: catalog_0001
Revises: 0001_foundation

- venue_invitations: staff are invited and accept; nobody is made staff silently.
- venues.approval: existing venues are approved (they were already selling).
- users.role: venue rights live in venue_staff only, so the global role is 'admin' or
  'fan'. Former venue_admin/scanner accounts keep their venue_staff rows.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0001"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("catalog",)
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("venues", sa.Column("approval", sa.String(20), nullable=False,
                                      server_default="approved"))
    op.create_check_constraint(op.f("ck_venues_approval"), "venues",
                               "approval IN ('pending', 'approved', 'rejected')")
    op.create_table(
        "venue_invitations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("venue_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("invited_by", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("accepted_at", TS, nullable=True),
        sa.Column("accepted_by", sa.BigInteger(), nullable=True),
        sa.Column("declined_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("created_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("role IN ('venue_admin', 'scanner')",
                           name=op.f("ck_venue_invitations_role")),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"],
                                name=op.f("fk_venue_invitations_venue_id_venues")),
        sa.ForeignKeyConstraint(["invited_by"], ["users.id"],
                                name=op.f("fk_venue_invitations_invited_by_users")),
        sa.ForeignKeyConstraint(["accepted_by"], ["users.id"],
                                name=op.f("fk_venue_invitations_accepted_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venue_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_venue_invitations_token_hash")),
    )
    op.create_index(op.f("ix_venue_invitations_venue_id"), "venue_invitations", ["venue_id"])
    op.create_index(op.f("ix_venue_invitations_email"), "venue_invitations", ["email"])
    op.execute("UPDATE users SET role = 'fan' WHERE role IN ('venue_admin', 'scanner')")


def downgrade() -> None:
    # The old display value: the account's highest staff role.
    op.execute(
        "UPDATE users SET role = s.role FROM ("
        " SELECT user_id, CASE WHEN bool_or(role = 'venue_admin') THEN 'venue_admin'"
        " ELSE 'scanner' END AS role FROM venue_staff GROUP BY user_id) s"
        " WHERE users.id = s.user_id AND users.role = 'fan'"
    )
    op.drop_index(op.f("ix_venue_invitations_email"), table_name="venue_invitations")
    op.drop_index(op.f("ix_venue_invitations_venue_id"), table_name="venue_invitations")
    op.drop_table("venue_invitations")
    op.drop_constraint(op.f("ck_venues_approval"), "venues", type_="check")
    op.drop_column("venues", "approval")

"""scanner: events.static_codes_allowed, whether the door accepts printed codes

Revision ID: scanner_0002
Revises: scanner_0001
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scanner_0002"
down_revision: str | Sequence[str] | None = "scanner_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing events keep accepting what they accepted before: every code was a
    # phone code, and allowing printed ones changes nothing for them.
    op.add_column("events", sa.Column("static_codes_allowed", sa.Boolean(),
                                      server_default=sa.true(), nullable=False))


def downgrade() -> None:
    op.drop_column("events", "static_codes_allowed")

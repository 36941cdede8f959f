"""catalog: venues.require_totp (a venue may require two-factor authentication of its staff)

Revision ID: catalog_0002
Revises: catalog_0001
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0002"
down_revision: str | Sequence[str] | None = "catalog_0001"
branch_labels: str | Sequence[str] | None = None
# The staff check reads totp_credentials (core chain).
depends_on: str | Sequence[str] | None = "0007_totp"


def upgrade() -> None:
    op.add_column("venues", sa.Column("require_totp", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("venues", "require_totp")

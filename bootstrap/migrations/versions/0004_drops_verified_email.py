"""drops.requires_verified_email: only accounts with a verified email may join

Revision ID: 0004_drops_verified_email
Revises: 0003_users_email_verified
Create Date: 2026-12-03 12:50:30
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_drops_verified_email'
down_revision: str | Sequence[str] | None = '0003_users_email_verified'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('drops', sa.Column('requires_verified_email', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('drops', 'requires_verified_email')

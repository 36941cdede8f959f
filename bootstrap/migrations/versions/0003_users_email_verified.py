"""users.email_verified_at: when the account proved it reads mail at its address

Revision ID: 0003_users_email_verified
Revises: 0002_sessions
Create Date: 2026-12-03 12:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_users_email_verified'
down_revision: str | Sequence[str] | None = '0002_sessions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: existing accounts start unverified (they never proved it).
    op.add_column('users', sa.Column('email_verified_at', sa.DateTime(timezone=True),
                                     nullable=True))


def downgrade() -> None:
    op.drop_column('users', 'email_verified_at')

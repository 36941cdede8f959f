"""oidc_identities: accounts at OpenID Connect providers linked to TicketQ accounts

Revision ID: 0006_oidc_identities
Revises: 0005_drop_join_guards
Create Date: 2026-12-03 13:45:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_oidc_identities'
down_revision: str | Sequence[str] | None = '0005_drop_join_guards'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'oidc_identities',
        sa.Column('provider', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_oidc_identities_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('provider', 'subject', name=op.f('pk_oidc_identities')),
        sa.UniqueConstraint('user_id', 'provider', name=op.f('uq_oidc_identities_user_id')),
    )


def downgrade() -> None:
    op.drop_table('oidc_identities')

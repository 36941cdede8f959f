"""two-factor authentication: TOTP secrets, recovery codes, sessions.second_factor_at

Revision ID: 0007_totp
Revises: 0006_oidc_identities
Create Date: 2026-12-03 13:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_totp'
down_revision: str | Sequence[str] | None = '0006_oidc_identities'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'totp_credentials',
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('secret_encrypted', sa.String(300), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('confirmed_at', TS, nullable=True),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_totp_credentials_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_totp_credentials')),
    )
    op.create_table(
        'totp_recovery_codes',
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('code_hash', sa.String(64), nullable=False),
        sa.Column('used_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_totp_recovery_codes_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'code_hash', name=op.f('pk_totp_recovery_codes')),
    )
    op.add_column('sessions', sa.Column('second_factor_at', TS, nullable=True))


def downgrade() -> None:
    op.drop_column('sessions', 'second_factor_at')
    op.drop_table('totp_recovery_codes')
    op.drop_table('totp_credentials')

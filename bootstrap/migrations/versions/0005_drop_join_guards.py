"""drops: proof-of-work difficulty and per-address join limits

Revision ID: 0005_drop_join_guards
Revises: 0004_drops_verified_email
Create Date: 2026-12-03 13:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_drop_join_guards'
down_revision: str | Sequence[str] | None = '0004_drops_verified_email'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing drops keep joining as before: no challenge, the platform's limits.
    op.add_column('drops', sa.Column('challenge_difficulty', sa.Integer(), server_default='0',
                                     nullable=False))
    op.add_column('drops', sa.Column('join_limit_per_ip', sa.Integer(), nullable=True))
    op.add_column('drops', sa.Column('join_limit_per_network', sa.Integer(), nullable=True))
    op.create_check_constraint(op.f('ck_drops_challenge_difficulty_not_negative'), 'drops',
                               'challenge_difficulty >= 0')
    op.create_check_constraint(op.f('ck_drops_join_limit_per_ip_not_negative'), 'drops',
                               'join_limit_per_ip >= 0')
    op.create_check_constraint(op.f('ck_drops_join_limit_per_network_not_negative'), 'drops',
                               'join_limit_per_network >= 0')


def downgrade() -> None:
    for name in ('join_limit_per_network', 'join_limit_per_ip', 'challenge_difficulty'):
        op.drop_constraint(op.f(f'ck_drops_{name}_not_negative'), 'drops', type_='check')
        op.drop_column('drops', name)

"""lottery drops and entries

Revision ID: lottery_0001
Revises: 0001_foundation
Create Date: 2026-11-25 00:49:58.532534

The lottery part's own branch: per-drop draw configuration and fans' entries.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'lottery_0001'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = ('lottery',)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lottery_drops',
    sa.Column('drop_id', sa.BigInteger(), nullable=False),
    sa.Column('draw_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('max_quantity_per_entry', sa.Integer(), nullable=False),
    sa.Column('capture_mode', sa.String(length=20), nullable=False),
    sa.Column('seed', sa.LargeBinary(length=32), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('public_randomness', sa.String(length=200), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('entries_hash', sa.String(length=64), nullable=True),
    sa.Column('entries_count', sa.Integer(), nullable=True),
    sa.Column('draw_capacity', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("capture_mode IN ('authorise', 'capture_now')", name=op.f('ck_lottery_drops_capture_mode')),
    sa.CheckConstraint("state IN ('open', 'sealed', 'drawn', 'settled')", name=op.f('ck_lottery_drops_state')),
    sa.CheckConstraint('max_quantity_per_entry >= 1', name=op.f('ck_lottery_drops_max_quantity_positive')),
    sa.ForeignKeyConstraint(['drop_id'], ['drops.id'], name=op.f('fk_lottery_drops_drop_id_drops')),
    sa.PrimaryKeyConstraint('drop_id', name=op.f('pk_lottery_drops'))
    )
    op.create_table('lottery_entries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('drop_id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('tier_id', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('rank', sa.BigInteger(), nullable=True),
    sa.Column('settlement', sa.String(length=20), nullable=False),
    sa.Column('money', sa.String(length=20), nullable=False),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claim_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("money IN ('none', 'authorised', 'captured', 'released', 'refunded', 'failed')", name=op.f('ck_lottery_entries_money')),
    sa.CheckConstraint("settlement IN ('pending', 'working', 'done')", name=op.f('ck_lottery_entries_settlement')),
    sa.CheckConstraint("status IN ('authorising', 'abandoned', 'entered', 'won', 'lost')", name=op.f('ck_lottery_entries_status')),
    sa.CheckConstraint('quantity >= 1', name=op.f('ck_lottery_entries_quantity_positive')),
    sa.ForeignKeyConstraint(['drop_id'], ['drops.id'], name=op.f('fk_lottery_entries_drop_id_drops')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_lottery_entries_order_id_orders')),
    sa.ForeignKeyConstraint(['tier_id'], ['ticket_tiers.id'], name=op.f('fk_lottery_entries_tier_id_ticket_tiers')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lottery_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lottery_entries')),
    sa.UniqueConstraint('drop_id', 'user_id', name=op.f('uq_lottery_entries_drop_id')),
    sa.UniqueConstraint('payment_intent_id', name=op.f('uq_lottery_entries_payment_intent_id'))
    )
    op.create_index('ix_lottery_entries_drop_settlement', 'lottery_entries', ['drop_id', 'settlement'], unique=False)
    op.create_index('ix_lottery_entries_drop_status', 'lottery_entries', ['drop_id', 'status'], unique=False)
    op.create_index(op.f('ix_lottery_entries_user_id'), 'lottery_entries', ['user_id'], unique=False)
    op.create_index('ix_lottery_entries_unfinished', 'lottery_entries', ['updated_at'],
                    unique=False,
                    postgresql_where=sa.text("status IN ('authorising', 'abandoned')"))


def downgrade() -> None:
    op.drop_index('ix_lottery_entries_unfinished', table_name='lottery_entries')
    op.drop_index(op.f('ix_lottery_entries_user_id'), table_name='lottery_entries')
    op.drop_index('ix_lottery_entries_drop_status', table_name='lottery_entries')
    op.drop_index('ix_lottery_entries_drop_settlement', table_name='lottery_entries')
    op.drop_table('lottery_entries')
    op.drop_table('lottery_drops')

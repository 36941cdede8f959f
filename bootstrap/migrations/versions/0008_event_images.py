"""event images: one re-encoded picture per event, served by TicketQ itself (img-src 'self')

Revision ID: 0008_event_images
Revises: 0007_totp
Create Date: 2026-12-04 21:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_event_images'
down_revision: str | Sequence[str] | None = '0007_totp'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'event_images',
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('content_type', sa.String(30), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE',
                                name=op.f('fk_event_images_event_id_events')),
        sa.PrimaryKeyConstraint('event_id', name=op.f('pk_event_images')),
    )


def downgrade() -> None:
    op.drop_table('event_images')

"""lottery entries confirmed in the browser

Revision ID: lottery_0002
Revises: lottery_0001
Create Date: 2026-12-03 14:15:00

A new entry status, 'confirming': the fan's browser holds the intent's client_secret and
confirms the card itself (3-D Secure); the row waits for it until the entry window closes.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = 'lottery_0002'
down_revision: str | Sequence[str] | None = 'lottery_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "status IN ('authorising', 'abandoned', 'entered', 'won', 'lost')"
NEW = "status IN ('authorising', 'confirming', 'abandoned', 'entered', 'won', 'lost')"


def upgrade() -> None:
    op.drop_constraint(op.f('ck_lottery_entries_status'), 'lottery_entries', type_='check')
    op.create_check_constraint(op.f('ck_lottery_entries_status'), 'lottery_entries', NEW)


def downgrade() -> None:
    # A waiting browser attempt is not an entry: forget it (the sweeper released nothing yet,
    # so cancel its intent by hand if one is recorded).
    op.execute("DELETE FROM lottery_entries WHERE status = 'confirming'")
    op.drop_constraint(op.f('ck_lottery_entries_status'), 'lottery_entries', type_='check')
    op.create_check_constraint(op.f('ck_lottery_entries_status'), 'lottery_entries', OLD)

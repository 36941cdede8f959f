"""a winner's entry follows its order's refund

Revision ID: lottery_0003
Revises: lottery_0002
Create Date: 2026-12-04 21:40:00

A settled winner's money lives on in its order: when that order is refunded later (by the
venue, by cancelling the event, by deleting the account, from Stripe's dashboard), the entry
must stop saying `captured`. Every such path ends in `purchase.refunds.refund_order`, which
sits below the lottery in the layers and so cannot call it; a trigger on `orders` owned by
this branch makes the entry follow in the same transaction, whichever path refunded it
(docs/lottery.md, "Refunds after settlement"). Entries refunded before this revision are
brought up to date here, and `order_id` gets the index the trigger looks entries up by.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = 'lottery_0003'
down_revision: str | Sequence[str] | None = 'lottery_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The note a fan reads beside the money (lottery.published.entry_json) carries the order's
# reason; BACKFILL writes the same words for entries refunded before this revision.
FOLLOW_REFUND = """
CREATE FUNCTION lottery_entry_follows_order_refund() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE lottery_entries
       SET money = 'refunded', updated_at = now(),
           note = left('you won, but your order was then refunded: '
                       || coalesce(NEW.reason, 'refunded'), 500)
     WHERE order_id = NEW.id AND money = 'captured';
    RETURN NULL;
END
$$
"""

# Only the transition into 'refunded' fires it: a repeat refund (already 'refunded') and every
# other order update cost one comparison.
TRIGGER = """
CREATE TRIGGER lottery_entry_follows_order_refund
AFTER UPDATE OF state ON orders
FOR EACH ROW WHEN (NEW.state = 'refunded' AND OLD.state IS DISTINCT FROM 'refunded')
EXECUTE FUNCTION lottery_entry_follows_order_refund()
"""

BACKFILL = """
UPDATE lottery_entries AS e
   SET money = 'refunded', updated_at = now(),
       note = left('you won, but your order was then refunded: '
                   || coalesce(o.reason, 'refunded'), 500)
  FROM orders AS o
 WHERE e.order_id = o.id AND o.state = 'refunded' AND e.money = 'captured'
"""


def upgrade() -> None:
    op.create_index('ix_lottery_entries_order_id', 'lottery_entries', ['order_id'], unique=False,
                    postgresql_where='order_id IS NOT NULL')
    op.execute(FOLLOW_REFUND)
    op.execute(TRIGGER)
    op.execute(BACKFILL)


def downgrade() -> None:
    # Entries already marked refunded stay so: that is where their money is.
    op.execute("DROP TRIGGER lottery_entry_follows_order_refund ON orders")
    op.execute("DROP FUNCTION lottery_entry_follows_order_refund()")
    op.drop_index('ix_lottery_entries_order_id', table_name='lottery_entries')

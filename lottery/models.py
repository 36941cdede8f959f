"""Lottery tables: one configuration row per lottery drop, one entry per fan per drop.

Both hang from the shared `Base`, so Alembic sees them (lottery/migrations is
their own branch from the foundation revision).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, CreatedAt
from core.models.ledger import UUID_TEXT


class LotteryDrop(CreatedAt, Base):
    """How a lottery drop draws, and how far its draw has gone.

    state: open (entries accepted while the drop's window is open; commitment
    public) -> sealed (window closed; entry list frozen, its hash public) ->
    drawn (winners chosen; seed public) -> settled (every entry's money settled).
    """

    __tablename__ = "lottery_drops"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'sealed', 'drawn', 'settled')", name="state"),
        CheckConstraint("capture_mode IN ('authorise', 'capture_now')", name="capture_mode"),
        CheckConstraint("max_quantity_per_entry >= 1", name="max_quantity_positive"),
    )

    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"), primary_key=True)
    draw_at: Mapped[datetime]
    max_quantity_per_entry: Mapped[int]
    # 'authorise': hold funds (capture_method=manual), capture winners, cancel losers.
    # 'capture_now': charge on entry and refund losers (draws beyond an authorisation's life).
    capture_mode: Mapped[str] = mapped_column(String(20))
    # Secret until the draw; sha256(seed) is the public commitment.
    seed: Mapped[bytes] = mapped_column(LargeBinary(32))
    commitment: Mapped[str] = mapped_column(String(64))
    public_randomness: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="open")
    entries_hash: Mapped[str | None] = mapped_column(String(64))
    entries_count: Mapped[int | None]
    # Remaining capacity per tier the draw used: {"<tier_id>": seats}.
    draw_capacity: Mapped[dict[str, int] | None] = mapped_column(JSONB)
    sealed_at: Mapped[datetime | None]
    drawn_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class LotteryEntry(CreatedAt, Base):
    """A fan's entry. It counts as an entry only from status 'entered' on.

    status: authorising (payment in flight; not an entry) | confirming (the fan's
    browser is confirming the card, e.g. 3-D Secure; not an entry, waits until the
    window closes) | abandoned (being released by the sweeper) | entered | won | lost.
    settlement: pending -> working (claimed by a worker until claim_expires_at)
    -> done. money: where the fan's money is: none, authorised (held), captured,
    released (hold cancelled, nothing charged), refunded, failed (capture refused).

    A winner's `captured` is not final: once its order is refunded (any path through
    purchase.refunds.refund_order), the trigger of migration lottery_0003 turns the entry
    `refunded`, with the order's reason as its note, in the refund's own transaction.
    Purchase sits below the lottery and cannot tell it; the trigger is the rule's one owner.
    """

    __tablename__ = "lottery_entries"
    __table_args__ = (
        UniqueConstraint("drop_id", "user_id"),
        CheckConstraint(
            "status IN ('authorising', 'confirming', 'abandoned', 'entered', 'won', 'lost')",
            name="status",
        ),
        CheckConstraint("settlement IN ('pending', 'working', 'done')", name="settlement"),
        CheckConstraint(
            "money IN ('none', 'authorised', 'captured', 'released', 'refunded', 'failed')",
            name="money",
        ),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        Index("ix_lottery_entries_drop_status", "drop_id", "status"),
        Index("ix_lottery_entries_drop_settlement", "drop_id", "settlement"),
        # The sweeper looks for dead entry attempts every second: keep that off a full scan.
        Index("ix_lottery_entries_unfinished", "updated_at",
              postgresql_where=text("status IN ('authorising', 'abandoned')")),
        # The refund trigger (lottery_0003) finds a refunded order's entry by it.
        Index("ix_lottery_entries_order_id", "order_id",
              postgresql_where=text("order_id IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("ticket_tiers.id"))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="authorising")
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    rank: Mapped[int | None] = mapped_column(BigInteger)
    settlement: Mapped[str] = mapped_column(String(20), default="pending")
    money: Mapped[str] = mapped_column(String(20), default="none")
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claim_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    # Why the money ended where it did, in words a fan can read.
    note: Mapped[str | None] = mapped_column(String(500))
    entered_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


def entry_items(entry: LotteryEntry) -> list[dict[str, Any]]:
    """The order items a winning entry turns into."""
    return [{"tier_id": entry.tier_id, "quantity": entry.quantity,
             "unit_price_cents": entry.unit_price_cents}]

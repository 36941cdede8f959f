"""The outbox table: one row per email a fan is owed, written with the change that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, CreatedAt
from core.models.ledger import UUID_TEXT


class OutboxMessage(CreatedAt, Base):
    """An email to send. Delivery state, in order:

    due (sent_at NULL, next_attempt_at <= now) -> claimed (claimed_by and a lease,
    claimed_until) -> sent (sent_at). A failed attempt clears the claim and pushes
    next_attempt_at back (exponential backoff); a lease that lapses (its worker died)
    makes the row claimable again.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The sender's scan: unsent rows by due time, and nothing else.
        Index("ix_outbox_due", "next_attempt_at", postgresql_where=text("sent_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    # The cause, e.g. "order_confirmation:<order id>": one cause enqueues at most once.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # [{filename, content_type, render, ...ids}]: what goes with the message, named, not
    # held; the bytes are rendered at send time (mail/attachments.py).
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb"))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))

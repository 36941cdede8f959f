"""Tables only the purchase part uses (the shared ledger lives in core.models.ledger)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base


class EventCancellation(Base):
    """A venue admin cancelled an event: its paid orders are refunded in batches.

    Progress is read from the orders themselves (paid -> refunded), so a crashed
    refunder resumes where the ledger says it stopped; this row records who asked,
    when, and when the last refund landed.
    """

    __tablename__ = "event_cancellations"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    requested_at: Mapped[datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[datetime | None]

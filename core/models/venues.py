"""Venues and the users who administer or scan for them."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Identity, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, CreatedAt


class Approval(StrEnum):
    """Whether a venue may publish: new venues by non-admins wait for a platform admin
    when TICKETQ_VENUE_APPROVAL is `required` (catalog/approval.py)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Venue(CreatedAt, Base):
    __tablename__ = "venues"
    __table_args__ = (
        CheckConstraint("approval IN ('pending', 'approved', 'rejected')", name="approval"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    approval: Mapped[str] = mapped_column(
        String(20), default=Approval.APPROVED, server_default=Approval.APPROVED.value
    )
    # Whether the venue's admins and scanners must have two-factor authentication to act
    # for it (catalog/authz.py venue_role; set by PUT /api/venues/{id}/security).
    require_totp: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class VenueStaff(CreatedAt, Base):
    __tablename__ = "venue_staff"
    __table_args__ = (CheckConstraint("role IN ('venue_admin', 'scanner')", name="role"),)

    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(20))

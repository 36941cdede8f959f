"""Users and their roles."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Identity, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, CreatedAt


class Role(StrEnum):
    ADMIN = "admin"
    VENUE_ADMIN = "venue_admin"
    SCANNER = "scanner"
    FAN = "fan"


class User(CreatedAt, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'venue_admin', 'scanner', 'fan')", name="role"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    # The account's highest role; venue-scoped rights live in venue_staff.
    role: Mapped[str] = mapped_column(String(20), default=Role.FAN)

"""The scanner part's tables: event signing keys, check-ins, the scan log, offline conflicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, CreatedAt
from core.models.ledger import UUID_TEXT


class EventSigningKey(CreatedAt, Base):
    """One of an event's Ed25519 key pairs, named by (event_id, key_id).

    The key itself is never stored: it is derived from the master seed
    (scanner/keyring.py). This row only says whether the key id signs new
    codes ('active', one per event), still verifies old ones ('retired'), or
    must be refused ('revoked', e.g. after a leak).
    """

    __tablename__ = "scanner_event_keys"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'retired', 'revoked')", name="status"),
        CheckConstraint("key_id BETWEEN 1 AND 65535", name="key_id_range"),
    )

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    retired_at: Mapped[datetime | None]


class CheckIn(Base):
    """The one admission of a ticket. The primary key is what makes check-in atomic:
    of any number of simultaneous scans, exactly one INSERT wins."""

    __tablename__ = "check_ins"
    __table_args__ = (CheckConstraint("source IN ('online', 'offline')", name="source"),)

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    scanned_at: Mapped[datetime]
    gate: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    scanner_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(10))
    recorded_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ScanRecord(CreatedAt, Base):
    """Every scan a device sent, keyed by its nonce: a retry gets the stored answer."""

    __tablename__ = "scan_records"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)
    ticket_id: Mapped[str | None] = mapped_column(UUID_TEXT, index=True)
    scanner_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(10))
    result: Mapped[str] = mapped_column(String(10))
    scanned_at: Mapped[datetime]
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)


class ScanConflict(Base):
    """Two gates admitted the same ticket (at least one offline): reported to the venue."""

    __tablename__ = "scan_conflicts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    kept_at: Mapped[datetime]
    kept_gate: Mapped[str] = mapped_column(String(64))
    kept_device_id: Mapped[str] = mapped_column(String(64))
    lost_at: Mapped[datetime]
    lost_gate: Mapped[str] = mapped_column(String(64))
    lost_device_id: Mapped[str] = mapped_column(String(64))
    detected_at: Mapped[datetime] = mapped_column(server_default=func.now())

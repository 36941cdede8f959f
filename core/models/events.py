"""Events, their ticket tiers, and the drops that sell them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    select,
    true,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from core.models.base import Base, CreatedAt


class EventImage(Base):
    """The event's one picture, already re-encoded by catalog/event_images.py (so it holds
    no EXIF/GPS data and no polyglot payload); `sha256` of `data` is its ETag."""

    __tablename__ = "event_images"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(30))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    updated_at: Mapped[datetime]


class Event(CreatedAt, Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'cancelled')", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # Whether the door accepts printed (static) ticket codes, or only the phone's
    # rotating code. Owned by the scanner part (its migration, its setter), see
    # docs/scanner.md "Printed codes".
    static_codes_allowed: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The picture's sha256, or None: read in the same query as the event (a correlated
    # subquery, never the bytes), so event JSON can name a versioned image URL. Not
    # expired on flush, so async code never lazy-loads it; new events start with None.
    image_sha256: Mapped[str | None] = column_property(
        select(EventImage.sha256).where(EventImage.event_id == id)
        .correlate_except(EventImage).scalar_subquery(),
        expire_on_flush=False,
    )


class TicketTier(CreatedAt, Base):
    __tablename__ = "ticket_tiers"
    __table_args__ = (
        UniqueConstraint("event_id", "name"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("per_fan_limit >= 1", name="per_fan_limit_positive"),
        # The ledger's own guard against oversell (ARCHITECTURE.md promise 1):
        # whatever Redis believes, Postgres never records more sold than exist.
        CheckConstraint("sold >= 0 AND sold <= capacity", name="sold_within_capacity"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    capacity: Mapped[int]
    per_fan_limit: Mapped[int]
    sold: Mapped[int] = mapped_column(default=0, server_default="0")


class Drop(CreatedAt, Base):
    __tablename__ = "drops"
    __table_args__ = (
        CheckConstraint("mode IN ('direct', 'lottery')", name="mode"),
        CheckConstraint(
            "state IN ('scheduled', 'paused', 'closed', 'sold_out', 'cancelled')", name="state"
        ),
        CheckConstraint("prequeue_opens_at <= opens_at", name="prequeue_before_open"),
        CheckConstraint("closes_at > opens_at", name="closes_after_open"),
        CheckConstraint("admit_per_minute > 0", name="admit_per_minute_positive"),
        CheckConstraint("max_active > 0", name="max_active_positive"),
        CheckConstraint("session_seconds > 0", name="session_seconds_positive"),
        CheckConstraint("challenge_difficulty >= 0", name="challenge_difficulty_not_negative"),
        CheckConstraint("join_limit_per_ip >= 0", name="join_limit_per_ip_not_negative"),
        CheckConstraint("join_limit_per_network >= 0", name="join_limit_per_network_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    mode: Mapped[str] = mapped_column(String(10))
    prequeue_opens_at: Mapped[datetime]
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    admit_per_minute: Mapped[int]
    max_active: Mapped[int]
    session_seconds: Mapped[int]
    hold_seconds: Mapped[int] = mapped_column(default=600, server_default="600")
    # Only accounts with a verified email may join (accounts/verification.py); mirrored
    # into the drop's Redis meta, where join_line checks it.
    requires_verified_email: Mapped[bool] = mapped_column(default=False,
                                                          server_default="false")
    # Bot guards at join (docs/security.md, "Joining a drop"): the proof-of-work's
    # max number (0 = no challenge; drops made before it existed stay off), and new
    # places per source address / network (None = the platform setting, 0 = no limit).
    challenge_difficulty: Mapped[int] = mapped_column(default=0, server_default="0")
    join_limit_per_ip: Mapped[int | None]
    join_limit_per_network: Mapped[int | None]
    # What the operator decided; the phase a fan sees also depends on the clock
    # (see core.drop_phase.drop_phase).
    state: Mapped[str] = mapped_column(String(20), default="scheduled")

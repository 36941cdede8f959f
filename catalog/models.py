"""The catalogue's own tables: staff invitations (venues and venue_staff are core tables)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, CreatedAt


class VenueInvitation(CreatedAt, Base):
    """An offer to become staff of a venue, sent to an email address.

    Nothing changes for the invited person until the account with that email accepts
    with the token from the email (catalog/invitations.py). Only the token's SHA-256 is
    stored, so a database reader cannot accept on anyone's behalf. At most one of
    accepted_at, declined_at and revoked_at is set; none set and expires_at in the future
    is a pending invitation.
    """

    __tablename__ = "venue_invitations"
    __table_args__ = (CheckConstraint("role IN ('venue_admin', 'scanner')", name="role"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    declined_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

"""Users and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, String, UniqueConstraint
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
    # 'admin' (the platform's operators) or 'fan' (everyone else). Venue rights live only
    # in venue_staff and come from an accepted invitation; nothing a venue does writes
    # this column. 'venue_admin' and 'scanner' remain allowed values only so rows written
    # before catalog_0001 stay valid; that migration moved them to 'fan'.
    role: Mapped[str] = mapped_column(String(20), default=Role.FAN)
    # When the account proved it reads mail at `email` (accounts/verification.py); None
    # until then. Drops with requires_verified_email refuse unverified accounts.
    email_verified_at: Mapped[datetime | None]

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class SignInSession(Base):
    """One sign-in: the id its bearer token and session cookie carry (accounts/sessions.py).

    The record of who signed in where; Redis holds the revocations the hot path checks.
    The id is made by TicketQ (start time in ms << 16 | 16 random bits) and is unique per
    user, so the key is (user_id, id).
    """

    __tablename__ = "sessions"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    # When this session last proved the account's second factor (sign-in with a TOTP
    # code, or an X-TOTP-Code header): sensitive actions want it recent (accounts/totp.py).
    second_factor_at: Mapped[datetime | None]


class OidcIdentity(Base):
    """An account at an OpenID Connect provider linked to a TicketQ account (accounts/oidc.py).

    (provider, subject) is the provider's own stable id for the person (the ID token's
    `sub`), never the email, which can change hands at the provider. One account links at
    most one identity per provider.
    """

    __tablename__ = "oidc_identities"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]


class TotpCredential(Base):
    """An account's TOTP secret (accounts/totp.py): pending until `confirmed_at`.

    The secret is stored encrypted (Fernet, key derived from TICKETQ_SECRET_KEY), so a
    database dump alone does not yield codes. `last_step` is the newest RFC 6238 time
    step accepted, so a code is never accepted twice.
    """

    __tablename__ = "totp_credentials"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_encrypted: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class TotpRecoveryCode(Base):
    """One single-use recovery code, stored as a keyed digest (never the code)."""

    __tablename__ = "totp_recovery_codes"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime | None]

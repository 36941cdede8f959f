"""The order ledger shared by purchase, lottery and scanner: the record of what was sold.

Ids of holds, orders and tickets are UUIDs (as text) made by TicketQ itself, so
idempotency keys sent to Stripe derive from our own ids (ARCHITECTURE.md, promise 2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, CreatedAt

UUID_TEXT = String(36)


class SoldOrder(Protocol):
    """The plain values of an order that its tickets and its emails are made from.

    An ORM `Order` has them, and so does settlement's Core row (purchase.settlement),
    which reads the order without an object for the session to track."""

    @property
    def id(self) -> str: ...
    @property
    def user_id(self) -> int: ...
    @property
    def event_id(self) -> int: ...
    @property
    def items(self) -> list[dict[str, Any]]: ...
    @property
    def total_cents(self) -> int: ...
    @property
    def currency(self) -> str: ...


class Hold(CreatedAt, Base):
    """Mirror of a Redis cart hold, for audit and reconciliation."""

    __tablename__ = "holds"
    __table_args__ = (
        CheckConstraint("state IN ('active', 'released', 'expired', 'converted')", name="state"),
    )

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # [{"tier_id": 1, "quantity": 2, "unit_price_cents": 5000}, ...]
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    total_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    expires_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), default="active")


class Order(CreatedAt, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'paid', 'refunded', 'failed', 'expired')", name="state"
        ),
    )

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("drops.id"), index=True)
    # One order per hold: a retried checkout finds the same order.
    hold_id: Mapped[str | None] = mapped_column(UUID_TEXT, unique=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    total_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    # Why an order ended as it did (e.g. "hold expired before payment; refunded").
    reason: Mapped[str | None] = mapped_column(String(500))
    # Set once by the one checkout that may create this order's PaymentIntent (purchase).
    checkout_started_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Ticket(CreatedAt, Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("status IN ('valid', 'refunded', 'cancelled')", name="status"),
    )

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("ticket_tiers.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="valid")


class Payment(CreatedAt, Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), index=True)
    stripe_payment_intent_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # Stripe's PaymentIntent status, plus our own "refunded".
    status: Mapped[str] = mapped_column(String(40))
    refunded_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    # Returned again to the paying fan on a retried checkout (Stripe.js needs it for 3-D Secure).
    client_secret: Mapped[str | None] = mapped_column(String(255))
    # Refunds happen exactly once: decided (due), claimed (requested) before Stripe is
    # called, then recorded (stripe_refund_id). See purchase/refunds.py.
    refund_due_at: Mapped[datetime | None]
    refund_reason: Mapped[str | None] = mapped_column(String(500))
    refund_requested_at: Mapped[datetime | None]
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class ProcessedWebhookEvent(Base):
    """Stripe event ids already handled: a replayed webhook changes nothing."""

    __tablename__ = "processed_webhook_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())

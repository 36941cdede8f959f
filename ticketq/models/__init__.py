"""SQLAlchemy models shared by several parts. Part-specific tables live in their part."""

from ticketq.models.accounts import Role, User
from ticketq.models.audit import AuditEntry
from ticketq.models.base import Base
from ticketq.models.events import Drop, Event, TicketTier
from ticketq.models.ledger import Hold, Order, Payment, ProcessedWebhookEvent, Ticket
from ticketq.models.venues import Venue, VenueStaff

__all__ = [
    "AuditEntry",
    "Base",
    "Drop",
    "Event",
    "Hold",
    "Order",
    "Payment",
    "ProcessedWebhookEvent",
    "Role",
    "Ticket",
    "TicketTier",
    "User",
    "Venue",
    "VenueStaff",
]

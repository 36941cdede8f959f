"""SQLAlchemy models shared by several parts. Part-specific tables live in their part."""

from core.models.accounts import OidcIdentity, Role, TotpCredential, TotpRecoveryCode, User
from core.models.audit import AuditEntry
from core.models.base import Base
from core.models.events import Drop, Event, EventImage, TicketTier
from core.models.ledger import Hold, Order, Payment, ProcessedWebhookEvent, SoldOrder, Ticket
from core.models.venues import Approval, Venue, VenueStaff

__all__ = [
    "Approval",
    "AuditEntry",
    "Base",
    "Drop",
    "Event",
    "EventImage",
    "Hold",
    "OidcIdentity",
    "Order",
    "Payment",
    "ProcessedWebhookEvent",
    "Role",
    "SoldOrder",
    "Ticket",
    "TicketTier",
    "TotpCredential",
    "TotpRecoveryCode",
    "User",
    "Venue",
    "VenueStaff",
]

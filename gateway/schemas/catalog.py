"""Venues, staff, events, tiers and drops (gateway/serialize.py builds them)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from gateway.schemas.base import Id, ResponseBody

EventStatus = Literal["draft", "published", "cancelled"]
DropMode = Literal["direct", "lottery"]
# core.drop_phase.DropPhase
DropState = Literal["scheduled", "prequeue", "open", "paused", "closed", "sold_out", "cancelled"]


VenueApproval = Literal["pending", "approved", "rejected"]
StaffRole = Literal["venue_admin", "scanner"]


class Venue(ResponseBody):
    id: Id
    name: str
    city: str
    timezone: str
    # pending: drafts only, until a platform admin approves (TICKETQ_VENUE_APPROVAL)
    approval: VenueApproval


class VenueSecurity(ResponseBody):
    venue_id: Id
    # Staff without two-factor authentication are refused the venue's actions (403).
    require_totp: bool


class Staff(ResponseBody):
    """The same whether or not an account has the email (no account enumeration)."""

    venue_id: Id
    email: str
    role: StaffRole
    detail: str


class Invitation(ResponseBody):
    """An invitation as its venue's admins see it."""

    id: Id
    venue_id: Id
    email: str
    role: StaffRole
    state: Literal["pending", "accepted", "declined", "revoked", "expired"]
    created_at: datetime
    expires_at: datetime


class InvitationList(ResponseBody):
    invitations: list[Invitation]


class InvitationVenue(ResponseBody):
    id: Id
    name: str
    city: str


class MyInvitation(ResponseBody):
    """A pending invitation to the caller's email address."""

    id: Id
    venue: InvitationVenue
    role: StaffRole
    expires_at: datetime


class MyInvitationList(ResponseBody):
    invitations: list[MyInvitation]


class StaffMember(ResponseBody):
    venue_id: Id
    user_id: Id
    role: StaffRole


class StaffListMember(ResponseBody):
    user_id: Id
    email: str
    name: str
    role: StaffRole


class StaffList(ResponseBody):
    staff: list[StaffListMember]


class Event(ResponseBody):
    id: Id
    venue_id: Id
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    status: EventStatus
    # The door accepts printed codes (PDF); false: only the phone's rotating code.
    # Set with PUT /api/events/{id}/door-codes.
    static_codes_allowed: bool
    # /api/events/{id}/image?v=<12 hex of its sha256>, or null when the event has none.
    image_url: str | None


class Tier(ResponseBody):
    id: Id
    event_id: Id
    name: str
    price_cents: int
    currency: str
    capacity: int
    per_fan_limit: int


class ManagedTier(Tier):
    """A tier as its venue's admins edit it: what fans already have of it."""

    sold: int
    held: int  # seats in live carts
    # Why the price can no longer change (tickets sold or held), or null while it can.
    price_locked: str | None


class ManagedTierList(ResponseBody):
    tiers: list[ManagedTier]


class EventWithTiers(Event):
    tiers: list[Tier]


class EventList(ResponseBody):
    events: list[Event]


class Drop(ResponseBody):
    id: Id
    event_id: Id
    mode: DropMode
    prequeue_opens_at: datetime
    opens_at: datetime
    closes_at: datetime
    admit_per_minute: int
    max_active: int
    session_seconds: int
    hold_seconds: int
    requires_verified_email: bool
    state: DropState
    challenge_difficulty: int  # 0: no proof-of-work at join
    join_limit_per_ip: int | None  # None: the platform's setting; 0: no limit
    join_limit_per_network: int | None


class DropView(Drop):
    """A drop with what a fan needs around it."""

    event: Event
    venue: Venue
    tiers: list[Tier]


class StaffEvent(EventWithTiers):
    drops: list[Drop]


class StaffVenue(Venue):
    role: Literal["admin", "venue_admin", "scanner"]
    events: list[StaffEvent]


class StaffVenues(ResponseBody):
    venues: list[StaffVenue]

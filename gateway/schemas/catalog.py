"""Venues, staff, events, tiers and drops (gateway/serialize.py builds them)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from gateway.schemas.base import Id, ResponseBody

EventStatus = Literal["draft", "published", "cancelled"]
DropMode = Literal["direct", "lottery"]
# core.drop_phase.DropPhase
DropState = Literal["scheduled", "prequeue", "open", "paused", "closed", "sold_out", "cancelled"]


class Venue(ResponseBody):
    id: Id
    name: str
    city: str
    timezone: str


class Staff(ResponseBody):
    """The same whether or not an account has the email (no account enumeration)."""

    venue_id: Id
    email: str
    role: Literal["venue_admin", "scanner"]
    detail: str


class Event(ResponseBody):
    id: Id
    venue_id: Id
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    status: EventStatus


class Tier(ResponseBody):
    id: Id
    event_id: Id
    name: str
    price_cents: int
    currency: str
    capacity: int
    per_fan_limit: int


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

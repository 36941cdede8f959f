"""The catalogue a drop sells from: venues and their staff, events, ticket tiers, drops,
and who may see or change each. Other parts use the names exported here."""

from catalog.drops import (
    DEFAULT_CHALLENGE_DIFFICULTY,
    MAX_CHALLENGE_DIFFICULTY,
    MAX_JOIN_LIMIT,
    MAX_SESSION_SECONDS,
    DropSchedule,
    DropView,
    create_drop,
    drop_changes,
    managed_drop,
    visible_drop,
)
from catalog.events import (
    TierSpec,
    create_event,
    create_tier,
    event_tiers,
    list_published_events,
    managed_event,
    publish_event,
    visible_event,
)
from catalog.seeding import AccountSpec, SaleSpec, SeededSale, seed_sale
from catalog.venues import VenueOverview, add_staff, create_venue, staff_venues

__all__ = [
    "DEFAULT_CHALLENGE_DIFFICULTY",
    "MAX_CHALLENGE_DIFFICULTY",
    "MAX_JOIN_LIMIT",
    "MAX_SESSION_SECONDS",
    "AccountSpec",
    "DropSchedule",
    "DropView",
    "SaleSpec",
    "SeededSale",
    "TierSpec",
    "VenueOverview",
    "add_staff",
    "create_drop",
    "create_event",
    "create_tier",
    "create_venue",
    "drop_changes",
    "event_tiers",
    "list_published_events",
    "managed_drop",
    "managed_event",
    "publish_event",
    "seed_sale",
    "staff_venues",
    "visible_drop",
    "visible_event",
]

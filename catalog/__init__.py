"""The catalogue a drop sells from: venues and their staff, events, ticket tiers, drops,
and who may see or change each. Other parts use the names exported here."""

from catalog.approval import decide_venue
from catalog.drops import (
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
from catalog.invitations import (
    InvitationNotice,
    MyInvitation,
    Notify,
    accept_invitation,
    decline_invitation,
    invite_staff,
    my_invitations,
    revoke_invitation,
    venue_invitations,
)
from catalog.seeding import AccountSpec, SaleSpec, SeededSale, seed_sale
from catalog.venues import VenueOverview, create_venue, get_venue, remove_staff, staff_venues

__all__ = [
    "MAX_SESSION_SECONDS",
    "AccountSpec",
    "DropSchedule",
    "DropView",
    "InvitationNotice",
    "MyInvitation",
    "Notify",
    "SaleSpec",
    "SeededSale",
    "TierSpec",
    "VenueOverview",
    "accept_invitation",
    "create_drop",
    "create_event",
    "create_tier",
    "create_venue",
    "decide_venue",
    "decline_invitation",
    "drop_changes",
    "event_tiers",
    "get_venue",
    "invite_staff",
    "list_published_events",
    "managed_drop",
    "managed_event",
    "my_invitations",
    "publish_event",
    "remove_staff",
    "revoke_invitation",
    "seed_sale",
    "staff_venues",
    "venue_invitations",
    "visible_drop",
    "visible_event",
]

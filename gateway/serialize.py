"""JSON shapes of catalogue objects, shared by every route that returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from catalog import DropView
from catalog.event_images import event_image_url
from core.drop_phase import drop_phase
from core.models import Drop, Event, TicketTier, User, Venue


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "email_verified": user.email_verified_at is not None}


def venue_json(venue: Venue) -> dict[str, Any]:
    return {"id": venue.id, "name": venue.name, "city": venue.city, "timezone": venue.timezone,
            "approval": venue.approval}


def event_json(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "venue_id": event.venue_id,
        "title": event.title,
        "description": event.description,
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "status": event.status,
        "static_codes_allowed": event.static_codes_allowed,
        "image_url": event_image_url(event),
    }


def tier_json(tier: TicketTier) -> dict[str, Any]:
    return {
        "id": tier.id,
        "event_id": tier.event_id,
        "name": tier.name,
        "price_cents": tier.price_cents,
        "currency": tier.currency,
        "capacity": tier.capacity,
        "per_fan_limit": tier.per_fan_limit,
    }


def drop_json(drop: Drop, now: datetime) -> dict[str, Any]:
    return {
        "id": drop.id,
        "event_id": drop.event_id,
        "mode": drop.mode,
        "prequeue_opens_at": iso(drop.prequeue_opens_at),
        "opens_at": iso(drop.opens_at),
        "closes_at": iso(drop.closes_at),
        "admit_per_minute": drop.admit_per_minute,
        "max_active": drop.max_active,
        "session_seconds": drop.session_seconds,
        "hold_seconds": drop.hold_seconds,
        "requires_verified_email": drop.requires_verified_email,
        "state": drop_phase(drop, now).value,
        "challenge_difficulty": drop.challenge_difficulty,
        "join_limit_per_ip": drop.join_limit_per_ip,
        "join_limit_per_network": drop.join_limit_per_network,
    }


def drop_view_json(view: DropView, now: datetime) -> dict[str, Any]:
    return {
        **drop_json(view.drop, now),
        "event": event_json(view.event),
        "venue": venue_json(view.venue),
        "tiers": [tier_json(tier) for tier in view.tiers],
    }

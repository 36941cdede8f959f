"""The scanner bundle: what a door device downloads to keep working offline.

Public keys only (raw Ed25519, base64url), the revocation list (tickets that
are refunded, cancelled or reissued: status != 'valid'), the tickets already
checked in when the bundle was made, tier names, and optionally the list of
valid tickets. Nothing in it lets a device mint a code.

It also carries `bundle_token`, the server's signature over (event id, generated_at):
a device sends it back with its offline uploads, so the server knows, without
trusting the device's clock, the earliest moment those scans can have happened.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import event_tiers
from catalog.authz import Actor
from core.clock import to_ms
from core.errors import Invalid
from core.models import Event, Role, Ticket, Venue, VenueStaff
from core.signed_fields import CredentialExpired, CredentialInvalid, SignedFields
from scanner.keyring import KeyRing, active_key_id, event_keys
from scanner.models import CheckIn
from scanner.payload import FORMAT_VERSION
from scanner.verify import authorised_event


def _token_kind(keyring: KeyRing) -> SignedFields:
    # Keyed from the ticket seed (a separate derivation), so no second secret to manage.
    secret = hashlib.sha256(b"tq.scanner-bundle\0" + keyring.seed).hexdigest()
    return SignedFields(secret, salt="tq.scanner-bundle", count=2, noun="bundle token")


def bundle_token(keyring: KeyRing, event_id: int, issued_at: datetime) -> str:
    return _token_kind(keyring).sign(event_id, to_ms(issued_at))


def bundle_issued_at(keyring: KeyRing, token: str, event_id: int) -> datetime:
    """When the bundle behind `token` was issued; Invalid unless we signed it for the event."""
    try:
        token_event, issued_ms = _token_kind(keyring).read_ints(token)
    except (CredentialInvalid, CredentialExpired) as exc:  # a bad upload (422), not a 401
        raise Invalid("bundle_token is not a bundle token we issued") from exc
    if token_event != event_id:
        raise Invalid("bundle_token belongs to another event's bundle")
    return datetime.fromtimestamp(issued_ms / 1000, tz=UTC)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


async def scanner_bundle(
    session: AsyncSession, keyring: KeyRing, actor: Actor, event_id: int, *,
    now: datetime, period_s: int, include_tickets: bool = False,
) -> dict[str, Any]:
    event = await authorised_event(session, actor, event_id)
    await active_key_id(session, event_id)
    keys = await event_keys(session, event_id)
    await session.commit()
    revoked = await session.scalars(select(Ticket.id).where(Ticket.event_id == event_id,
                                                            Ticket.status != "valid"))
    checked_in = list(await session.scalars(select(CheckIn.ticket_id)
                                            .where(CheckIn.event_id == event_id)))
    bundle: dict[str, Any] = {
        "event_id": event.id, "venue_id": event.venue_id, "title": event.title,
        "generated_at": now.isoformat().replace("+00:00", "Z"),
        "bundle_token": bundle_token(keyring, event.id, now),
        "format_version": FORMAT_VERSION, "code_period_s": period_s,
        "static_codes_allowed": event.static_codes_allowed,
        "keys": [{"key_id": key.key_id, "status": key.status, "algorithm": "Ed25519",
                  "public_key": _b64url(keyring.public_key_bytes(event_id, key.key_id))}
                 for key in keys if key.status != "revoked"],
        "revoked": sorted(revoked),
        "checked_in": sorted(checked_in),
        "admitted_count": len(checked_in),
        "tiers": {str(tier.id): tier.name for tier in await event_tiers(session, event_id)},
    }
    if include_tickets:
        rows = await session.execute(select(Ticket.id, Ticket.tier_id)
                                     .where(Ticket.event_id == event_id, Ticket.status == "valid")
                                     .order_by(Ticket.id))
        bundle["tickets"] = [[row[0], row[1]] for row in rows]
    return bundle


async def admitted_count(session: AsyncSession, event_id: int) -> int:
    return int(await session.scalar(select(func.count()).select_from(CheckIn)
                                    .where(CheckIn.event_id == event_id)) or 0)


async def scannable_events(
    session: AsyncSession, actor: Actor, *, now: datetime,
) -> list[dict[str, Any]]:
    """Published events not yet over at venues where the actor may scan (all for admins)."""
    query = (select(Event, Venue.name).join(Venue, Venue.id == Event.venue_id)
             .where(Event.status == "published", Event.ends_at > now - timedelta(hours=12))
             .order_by(Event.starts_at).limit(100))
    if actor.role != Role.ADMIN:
        query = query.join(VenueStaff, VenueStaff.venue_id == Event.venue_id).where(
            VenueStaff.user_id == actor.id, VenueStaff.role.in_([Role.VENUE_ADMIN, Role.SCANNER]))
    rows = await session.execute(query)
    return [{"id": event.id, "title": event.title, "venue": venue_name,
             "starts_at": event.starts_at.isoformat().replace("+00:00", "Z")}
            for event, venue_name in rows]

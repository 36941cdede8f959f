"""Reading a scanned code: who may scan it, and whether it is genuine.

The order matters: parse (no I/O), find the event and check the scanner may
scan for its venue (403 otherwise: a venue A scanner learns nothing about
venue B's tickets), then the key id and the Ed25519 signature, then, online
only, the rotating code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor, require_venue_scanner
from core.errors import Forbidden, Invalid, NotFound
from core.models import Event, Role, Ticket, VenueStaff
from scanner.codes import code_matches, code_was_shown_before
from scanner.keyring import USABLE, KeyRing
from scanner.models import EventSigningKey
from scanner.payload import MalformedPayload, ScannedPayload, TicketClaims, decode

# What door staff type when a screen will not scan: the first 8 hex digits of the
# ticket id and the 6-digit rotating code shown under the QR, e.g. "1f0c9a2b-123456".
MANUAL_CODE = re.compile(r"^([0-9a-f]{8})[- ]?(\d{6})$", re.IGNORECASE)


_EVENT_AND_KEY = (
    select(Event.venue_id, EventSigningKey.status, Event.static_codes_allowed).select_from(Event)
    .outerjoin(EventSigningKey, and_(EventSigningKey.event_id == Event.id,
                                     EventSigningKey.key_id == bindparam("key_id")))
    .where(Event.id == bindparam("event_id"))
)


CODE_EXPIRED = ("code expired: a screenshot or an old screen; ask the fan to refresh their "
                "ticket")
# A typed code whose 6 digits were never this ticket's code lately: almost always a typo,
# and "expired" would send the fan off to refresh a screen that is fine.
CODE_MISMATCH = "code does not match: check the code under the QR and type it again"
# How far back a typed code counts as "expired" rather than "does not match": long enough
# for a screenshot taken on the way to the venue. Each step is one HMAC (~1 us).
EXPIRED_LOOKBACK_S = 2 * 3600

STATIC_REFUSED = ("printed ticket: this event admits only the live code in the TicketQ app; "
                  "ask the fan to open their ticket on their phone")


class Rejected(Exception):
    """The code is not an admissible ticket; `reason` is shown to door staff."""

    def __init__(self, reason: str, event_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


@dataclass(frozen=True)
class Presented:
    """A code that parsed, for an event the caller may scan."""

    claims: TicketClaims
    code: int
    signature: bytes | None  # None for manual entry (online only, checked by code)
    key_status: str | None = None  # of claims.key_id, read with the event
    static_allowed: bool = False  # the event accepts printed codes, read with the event


async def require_any_scanner(session: AsyncSession, actor: Actor) -> None:
    if actor.role == Role.ADMIN:
        return
    staff = await session.scalar(select(exists().where(VenueStaff.user_id == actor.id)))
    if not staff:
        raise Forbidden("you are not a scanner for any venue")


async def authorised_event(session: AsyncSession, actor: Actor, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise NotFound("no such event")
    await require_venue_scanner(session, actor, event.venue_id)
    return event


async def _manual(session: AsyncSession, actor: Actor, match: re.Match[str],
                  event_id: int | None) -> Presented:
    if event_id is None:
        raise Invalid("manual codes need the event_id being scanned")
    await authorised_event(session, actor, event_id)
    prefix = match.group(1).lower()
    rows = (await session.execute(
        select(Ticket.id, Ticket.tier_id)
        .where(Ticket.event_id == event_id, Ticket.id.like(prefix + "%")).limit(2))).all()
    if len(rows) != 1:
        reason = "no ticket with that code" if not rows else "ambiguous code; scan the QR"
        raise Rejected(reason, event_id)
    claims = TicketClaims(key_id=0, ticket_id=rows[0][0], event_id=event_id, tier_id=rows[0][1])
    return Presented(claims=claims, code=int(match.group(2)), signature=None)


async def present(session: AsyncSession, actor: Actor, text: str,
                  expected_event_id: int | None) -> Presented:
    """Parse and authorise; raises Rejected (an 'invalid' answer) or Forbidden/NotFound."""
    manual = MANUAL_CODE.match(text.strip())
    if manual:
        return await _manual(session, actor, manual, expected_event_id)
    try:
        scanned: ScannedPayload = decode(text)
    except MalformedPayload as exc:
        if expected_event_id is not None:
            await authorised_event(session, actor, expected_event_id)
        else:
            await require_any_scanner(session, actor)
        raise Rejected(exc.reason, expected_event_id) from exc
    claims = scanned.claims
    # One statement for the event's venue and the key's status (the hot path).
    connection = await session.connection()
    found = (await connection.execute(
        _EVENT_AND_KEY, {"event_id": claims.event_id, "key_id": claims.key_id})).first()
    if found is None:
        await require_any_scanner(session, actor)
        raise Rejected("ticket for an unknown event", expected_event_id)
    await require_venue_scanner(session, actor, found[0])
    if expected_event_id is not None and claims.event_id != expected_event_id:
        raise Rejected("this ticket is for another event", claims.event_id)
    return Presented(claims=claims, code=scanned.code, signature=scanned.signature,
                     key_status=found[1], static_allowed=found[2])


def check_genuine(keyring: KeyRing, presented: Presented) -> None:
    """Key id usable for the event, signature valid (manual entry has no signature), and a
    printed code only where the event accepts them (checked after the signature, so
    the answer is about a genuine ticket)."""
    if presented.signature is None:
        return
    claims = presented.claims
    if presented.key_status not in USABLE:
        raise Rejected("unknown or revoked signing key", claims.event_id)
    if not keyring.verify(claims, presented.signature):
        raise Rejected("the signature does not match: forged or damaged code", claims.event_id)
    if claims.static and not presented.static_allowed:
        raise Rejected(STATIC_REFUSED, claims.event_id)


def check_fresh(keyring: KeyRing, presented: Presented, moment: datetime, period_s: int) -> bool:
    """The rotating code is current; a printed code has none (check_genuine vetted it)."""
    if presented.claims.static:
        return True
    secret = keyring.code_secret(presented.claims.ticket_id)
    return code_matches(secret, presented.code, moment, period_s)


def stale_reason(keyring: KeyRing, presented: Presented, moment: datetime, period_s: int) -> str:
    """Why a code that failed check_fresh is refused, in words for door staff.

    A QR's signature already proved it came from our ticket page, so its one wrong part
    is an old rotating code: expired. A typed code has no signature: its digits are either
    an earlier code of the ticket (expired) or a typo (does not match).
    """
    if presented.signature is not None:
        return CODE_EXPIRED
    secret = keyring.code_secret(presented.claims.ticket_id)
    if code_was_shown_before(secret, presented.code, moment, period_s,
                             steps_back=EXPIRED_LOOKBACK_S // period_s):
        return CODE_EXPIRED
    return CODE_MISMATCH

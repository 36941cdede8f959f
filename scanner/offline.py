"""The door without a network: the scanner bundle, and uploading scans made offline.

An offline device checks a code against the bundle (public keys, revocation
list, tickets already checked in) and admits on its own; it cannot check the
rotating code, whose secrets never leave the server (docs/scanner.md states the
trade-off). When the network returns, it uploads each admission with its own
nonce and its own clock's `scanned_at`; the server then checks the rotating
code against that time and flags stale ones (audit `scan.stale_code`):

- the same (device, nonce) again returns the stored answer (idempotent);
- if the ticket has no check-in yet, the upload creates it;
- if it has one made online, the online one always stands: the upload is a
  duplicate (and a conflict), whatever time the device claims;
- if it has one made offline, the EARLIER admission wins (the check-in row is
  rewritten if the upload is earlier); either way two people really went in, so the
  pair is written to `scan_conflicts` and the audit log for the venue to follow up.

The device's clock is not trusted: a `scanned_at` is kept only inside
[bundle issued - skew, upload time + skew] (the bundle's issue time comes from its
signed `bundle_token`) and not before the ticket itself was issued; outside that it is
replaced by the upload time (audit `scan.clock_out_of_bounds`), and a time ahead of
the upload is cut to it, so no claimed time can beat a real admission.

Each scan is settled under a row lock on its check-in (SELECT ... FOR UPDATE,
or the insert's conflict), so concurrent uploads from two gates serialise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor
from core import audit
from core.errors import Forbidden, NotFound
from core.models import Ticket
from scanner.codes import code_matches
from scanner.keyring import KeyRing
from scanner.models import CheckIn, ScanConflict
from scanner.payload import TicketClaims
from scanner.results import (
    ScanContext,
    ScanOutcome,
    ScanResult,
    TicketState,
    Winner,
    invalid,
    settle,
    stored_response,
    ticket_state,
)
from scanner.verify import Rejected, authorised_event, check_genuine, present

MAX_BATCH = 200
# Offline admissions whose rotating code was not current (within +-1 minute of
# device clock drift) when scanned are flagged and audited: likely a screenshot.
STALE_WINDOW_STEPS = 4
STALE_REASON = "the rotating code was stale when scanned offline: possibly a screenshot"
CLOCK_REASON = "the device's scan time was impossible; the upload time was recorded instead"


@dataclass(frozen=True)
class ClockBounds:
    """What an offline scan time may be: after the bundle (if known), before the upload."""

    upload_at: datetime
    skew: timedelta
    bundle_issued_at: datetime | None = None

    def plausible(self, scanned_at: datetime, ticket_issued_at: datetime) -> bool:
        # Skew on both: the device's clock is compared with the server's.
        earliest = max(ticket_issued_at, self.bundle_issued_at or ticket_issued_at) - self.skew
        return earliest <= scanned_at <= self.upload_at + self.skew


@dataclass(frozen=True)
class OfflineScan:
    """One admission a device made while offline."""

    payload: str
    gate: str
    nonce: str
    scanned_at: datetime


def _check_in_values(context: ScanContext, claims: TicketClaims) -> dict[str, Any]:
    return {"ticket_id": claims.ticket_id, "event_id": claims.event_id,
            "scanned_at": context.scanned_at, "gate": context.gate,
            "device_id": context.device_id, "nonce": context.nonce,
            "scanner_user_id": context.user_id, "source": context.source}


def _report(session: AsyncSession, context: ScanContext, state: TicketState, *,
            kept: Winner | ScanContext, lost: Winner | ScanContext) -> None:
    session.add(ScanConflict(
        event_id=state.event_id, ticket_id=state.ticket_id,
        kept_at=kept.scanned_at, kept_gate=kept.gate, kept_device_id=kept.device_id,
        lost_at=lost.scanned_at, lost_gate=lost.gate, lost_device_id=lost.device_id))
    audit.record(session, actor_user_id=context.user_id, action="scan.conflict",
                 subject_type="event", subject_id=state.event_id,
                 details={"ticket_id": state.ticket_id, "kept_gate": kept.gate,
                          "lost_gate": lost.gate})


async def _admit_offline(
    session: AsyncSession, context: ScanContext, claims: TicketClaims,
) -> ScanOutcome:
    state = await ticket_state(session, claims.ticket_id, lock=True)
    if state is None or state.event_id != claims.event_id or state.tier_id != claims.tier_id:
        return invalid("no such ticket", claims.event_id)
    if state.status != "valid":
        return state.outcome(ScanResult.REFUNDED, reason=f"ticket {state.status}; admitted offline")
    if state.winner is None:
        created = await session.execute(
            pg_insert(CheckIn).values(**_check_in_values(context, claims))
            .on_conflict_do_nothing(index_elements=["ticket_id"]).returning(CheckIn.ticket_id))
        if created.first() is not None:
            return (await _require(session, claims)).outcome(ScanResult.VALID)
        state = await _require(session, claims, lock=True)  # another gate's insert won the race
    winner = state.winner
    assert winner is not None
    if (winner.device_id, winner.nonce) == (context.device_id, context.nonce):
        return state.outcome(ScanResult.VALID)  # the same upload, retried concurrently
    online = await session.scalar(select(CheckIn.source == "online")
                                  .where(CheckIn.ticket_id == claims.ticket_id))
    if not online and context.scanned_at < winner.scanned_at:
        _report(session, context, state, kept=context, lost=winner)
        await session.execute(update(CheckIn).where(CheckIn.ticket_id == claims.ticket_id)
                              .values(**_check_in_values(context, claims)))
        return (await _require(session, claims)).outcome(ScanResult.VALID, conflict=True)
    _report(session, context, state, kept=winner, lost=context)
    return state.outcome(ScanResult.DUPLICATE, conflict=True)


async def _require(
    session: AsyncSession, claims: TicketClaims, *, lock: bool = False,
) -> TicketState:
    state = await ticket_state(session, claims.ticket_id, lock=lock)
    assert state is not None
    return state


async def _bounded(session: AsyncSession, context: ScanContext, claims: TicketClaims,
                   bounds: ClockBounds) -> tuple[ScanContext, bool]:
    """The context with a scan time we can believe, and whether the device's was not."""
    issued_at = await session.scalar(select(Ticket.created_at)
                                     .where(Ticket.id == claims.ticket_id))
    if issued_at is None or bounds.plausible(context.scanned_at, issued_at):
        return replace(context, scanned_at=min(context.scanned_at, bounds.upload_at)), False
    return replace(context, scanned_at=bounds.upload_at), True


async def _one(session: AsyncSession, keyring: KeyRing, actor: Actor, context: ScanContext,
               payload: str, event_id: int, period_s: int,
               bounds: ClockBounds) -> dict[str, Any]:
    earlier = await stored_response(session, context.device_id, context.nonce)
    if earlier is not None:
        return earlier
    try:
        presented = await present(session, actor, payload, event_id)
        if presented.signature is None:
            raise Rejected("manual codes need a connection", event_id)
        check_genuine(keyring, presented)
    except Rejected as exc:
        outcome = invalid(exc.reason, event_id)
    except (Forbidden, NotFound):
        outcome = invalid("this ticket is for another event", event_id)
    else:
        claimed_at = context.scanned_at
        context, implausible = await _bounded(session, context, presented.claims, bounds)
        outcome = await _admit_offline(session, context, presented.claims)
        secret = keyring.code_secret(presented.claims.ticket_id)
        if implausible:
            outcome = replace(outcome, reason=CLOCK_REASON)
            audit.record(session, actor_user_id=context.user_id,
                         action="scan.clock_out_of_bounds", subject_type="event",
                         subject_id=event_id,
                         details={"ticket_id": presented.claims.ticket_id, "gate": context.gate,
                                  "device_id": context.device_id,
                                  "claimed_at": claimed_at.isoformat()})
        elif (outcome.ticket_id and not presented.claims.static
              and not code_matches(secret, presented.code, context.scanned_at, period_s,
                                   window=STALE_WINDOW_STEPS)):
            # The device could not check the rotating code; we can, after the fact.
            outcome = replace(outcome, reason=STALE_REASON)
            audit.record(session, actor_user_id=context.user_id, action="scan.stale_code",
                         subject_type="event", subject_id=event_id,
                         details={"ticket_id": outcome.ticket_id, "gate": context.gate,
                                  "device_id": context.device_id})
    return await settle(session, context, outcome)


async def upload_offline_scans(
    session: AsyncSession,
    keyring: KeyRing,
    actor: Actor,
    *,
    event_id: int,
    device_id: str,
    scans: list[OfflineScan],
    now: datetime,
    period_s: int,
    skew: timedelta,
    bundle_issued_at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Settle a batch of offline admissions; one answer per scan, in request order.

    `bundle_issued_at` (from the upload's signed bundle_token) bounds how early a scan
    can claim to be; without it only the ticket's own issue time does.
    """
    await authorised_event(session, actor, event_id)
    bounds = ClockBounds(upload_at=now, skew=skew, bundle_issued_at=bundle_issued_at)
    answers = []
    for scan in scans:
        context = ScanContext(user_id=actor.id, device_id=device_id, nonce=scan.nonce,
                              gate=scan.gate, scanned_at=scan.scanned_at, source="offline")
        answers.append(await _one(session, keyring, actor, context, scan.payload, event_id,
                                  period_s, bounds))
    return answers


async def list_conflicts(session: AsyncSession, event_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(select(ScanConflict).where(ScanConflict.event_id == event_id)
                                 .order_by(ScanConflict.id))
    return [
        {"id": row.id, "ticket_id": row.ticket_id, "detected_at": row.detected_at.isoformat(),
         "kept": {"at": row.kept_at.isoformat(), "gate": row.kept_gate,
                  "device_id": row.kept_device_id},
         "lost": {"at": row.lost_at.isoformat(), "gate": row.lost_gate,
                  "device_id": row.lost_device_id}}
        for row in rows
    ]

"""Online check-in: one atomic INSERT decides who gets in.

`check_ins.ticket_id` is the primary key, so

    INSERT INTO check_ins (...) SELECT ... FROM tickets
     WHERE id = :ticket AND event_id = :event AND status = 'valid'
    ON CONFLICT (ticket_id) DO NOTHING RETURNING ticket_id

returns a row for exactly one of any number of simultaneous scans of a ticket
(Postgres makes the others wait for the first insert to commit, then do
nothing). The loser then reads the winner in a fresh statement to say when and
at which gate the ticket was first used. A retry with the same (device, nonce)
recognises itself as the winner, and the scan log returns stored answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.authz import Actor
from core.models import Ticket
from scanner.keyring import KeyRing
from scanner.models import CheckIn
from scanner.payload import TicketClaims
from scanner.results import (
    ScanContext,
    ScanOutcome,
    ScanResult,
    invalid,
    settle,
    ticket_state,
)
from scanner.verify import Rejected, check_fresh, check_genuine, present, stale_reason

# Built once: the hot path binds values instead of constructing statements per scan.
_ADMIT = (
    pg_insert(CheckIn)
    .from_select(
        ["ticket_id", "event_id", "scanned_at", "gate", "device_id", "nonce", "scanner_user_id",
         "source"],
        select(Ticket.id, Ticket.event_id,
               bindparam("scanned_at", type_=DateTime(timezone=True)),
               bindparam("gate", type_=String), bindparam("device_id", type_=String),
               bindparam("nonce", type_=String), bindparam("user_id", type_=BigInteger),
               bindparam("source", type_=String))
        .where(Ticket.id == bindparam("ticket_id"), Ticket.event_id == bindparam("event_id"),
               Ticket.tier_id == bindparam("tier_id"), Ticket.status == "valid"))
    .on_conflict_do_nothing(index_elements=["ticket_id"])
    .returning(CheckIn.ticket_id)
)


async def _admit(session: AsyncSession, context: ScanContext, claims: TicketClaims) -> bool:
    """The one statement that decides: True if this scan created the check-in."""
    connection = await session.connection()
    inserted = await connection.execute(_ADMIT, {
        "scanned_at": context.scanned_at, "gate": context.gate, "device_id": context.device_id,
        "nonce": context.nonce, "user_id": context.user_id, "source": context.source,
        "ticket_id": claims.ticket_id, "event_id": claims.event_id, "tier_id": claims.tier_id})
    return inserted.first() is not None


async def _decide(session: AsyncSession, keyring: KeyRing, actor: Actor, context: ScanContext,
                  payload: str, event_id: int | None, period_s: int) -> ScanOutcome:
    try:
        presented = await present(session, actor, payload, event_id)
        check_genuine(keyring, presented)
    except Rejected as exc:
        return invalid(exc.reason, exc.event_id)
    claims = presented.claims
    if not check_fresh(keyring, presented, context.scanned_at, period_s):
        reason = stale_reason(keyring, presented, context.scanned_at, period_s)
        return invalid(reason, claims.event_id)
    won = await _admit(session, context, claims)
    state = await ticket_state(session, claims.ticket_id)
    if state is None or state.event_id != claims.event_id or state.tier_id != claims.tier_id:
        return invalid("no such ticket", claims.event_id)
    if won:
        return state.outcome(ScanResult.VALID)
    if state.status != "valid":
        return state.outcome(ScanResult.REFUNDED, reason=f"ticket {state.status}")
    winner = state.winner
    ours = (context.device_id, context.nonce)
    if winner is not None and (winner.device_id, winner.nonce) == ours:
        return state.outcome(ScanResult.VALID)  # a retry of the scan that won
    return state.outcome(ScanResult.DUPLICATE)


async def scan_online(
    session: AsyncSession,
    keyring: KeyRing,
    actor: Actor,
    *,
    payload: str,
    gate: str,
    device_id: str,
    nonce: str,
    event_id: int | None,
    now: datetime,
    period_s: int,
) -> dict[str, Any]:
    """Check a scanned code in and answer valid | duplicate | invalid | refunded.

    Raises Forbidden/NotFound when the caller may not scan for the ticket's venue.
    Commits its own transaction.
    """
    # No lookup of the nonce first (one statement less on the hot path): a retry
    # re-runs the decision, then `settle` finds the nonce logged, rolls the
    # retry back and repeats the first answer.
    context = ScanContext(user_id=actor.id, device_id=device_id, nonce=nonce, gate=gate,
                          scanned_at=now, source="online")
    outcome = await _decide(session, keyring, actor, context, payload, event_id, period_s)
    return await settle(session, context, outcome)

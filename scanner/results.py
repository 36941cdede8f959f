"""What a scan answers, and the scan log that makes every answer repeatable by nonce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Ticket, TicketTier, User
from scanner.models import CheckIn, ScanRecord


class ScanResult(StrEnum):
    VALID = "valid"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class ScanContext:
    """Who scanned, where and when (the device's clock for offline scans)."""

    user_id: int
    device_id: str
    nonce: str
    gate: str
    scanned_at: datetime
    source: str  # 'online' | 'offline'


@dataclass(frozen=True)
class ScanOutcome:
    result: ScanResult
    event_id: int | None = None
    ticket_id: str | None = None
    tier: str | None = None
    holder: str | None = None
    first_scanned_at: datetime | None = None
    first_gate: str | None = None
    reason: str | None = None
    conflict: bool = False

    def as_json(self, nonce: str) -> dict[str, Any]:
        first = self.first_scanned_at
        return {
            "result": self.result.value, "nonce": nonce, "event_id": self.event_id,
            "ticket_id": self.ticket_id, "tier": self.tier, "holder": self.holder,
            "first_scanned_at": first.isoformat().replace("+00:00", "Z") if first else None,
            "first_gate": self.first_gate, "reason": self.reason, "conflict": self.conflict,
        }


def invalid(reason: str, event_id: int | None = None) -> ScanOutcome:
    return ScanOutcome(ScanResult.INVALID, event_id=event_id, reason=reason)


@dataclass(frozen=True)
class Winner:
    """The check-in that let the ticket in."""

    scanned_at: datetime
    gate: str
    device_id: str
    nonce: str


@dataclass(frozen=True)
class TicketState:
    """A ticket as the door sees it, with its current winning check-in (if any)."""

    ticket_id: str
    event_id: int
    tier_id: int
    status: str
    tier: str
    holder: str | None
    winner: Winner | None

    def outcome(self, result: ScanResult, **extra: Any) -> ScanOutcome:
        winner = self.winner
        return ScanOutcome(
            result, event_id=self.event_id, ticket_id=self.ticket_id, tier=self.tier,
            holder=self.holder, first_scanned_at=winner.scanned_at if winner else None,
            first_gate=winner.gate if winner else None, **extra)


def _first_name(name: str | None) -> str | None:
    parts = (name or "").split()
    return parts[0] if parts else None


_TICKET_COLUMNS = (Ticket.id, Ticket.event_id, Ticket.tier_id, Ticket.status, TicketTier.name,
                   User.name)
_WINNER_COLUMNS = (CheckIn.scanned_at, CheckIn.gate, CheckIn.device_id, CheckIn.nonce)


_TICKET_QUERY = (select(*_TICKET_COLUMNS)
                 .join(TicketTier, TicketTier.id == Ticket.tier_id)
                 .join(User, User.id == Ticket.user_id))
_STATE_QUERY = (_TICKET_QUERY.add_columns(*_WINNER_COLUMNS)
                .outerjoin(CheckIn, CheckIn.ticket_id == Ticket.id)
                .where(Ticket.id == bindparam("ticket_id")))
_LOG_SCAN = pg_insert(ScanRecord).on_conflict_do_nothing().returning(ScanRecord.nonce)


async def ticket_state(
    session: AsyncSession, ticket_id: str, *, lock: bool = False,
) -> TicketState | None:
    """Read a ticket and its winning check-in in a fresh statement (READ COMMITTED
    sees whatever concurrent scan committed first). `lock` holds the check-in row
    (a separate statement: Postgres cannot lock the nullable side of an outer join)."""
    row: tuple[Any, ...] | None
    winner_row: tuple[Any, ...]
    if lock:
        first = (await session.execute(_TICKET_QUERY.where(Ticket.id == ticket_id))).first()
        row = tuple(first) if first else None
        found = (await session.execute(select(*_WINNER_COLUMNS)
                                       .where(CheckIn.ticket_id == ticket_id)
                                       .with_for_update())).first()
        winner_row = tuple(found) if found else (None,) * 4
    else:
        connection = await session.connection()
        both = (await connection.execute(_STATE_QUERY, {"ticket_id": ticket_id})).first()
        row, winner_row = (tuple(both[:6]), tuple(both[6:])) if both else (None, (None,) * 4)
    if row is None:
        return None
    winner = Winner(*winner_row) if winner_row[0] is not None else None
    return TicketState(ticket_id=row[0], event_id=row[1], tier_id=row[2], status=row[3],
                       tier=row[4], holder=_first_name(row[5]), winner=winner)


async def stored_response(
    session: AsyncSession, device_id: str, nonce: str,
) -> dict[str, Any] | None:
    response: dict[str, Any] | None = await session.scalar(
        select(ScanRecord.response).where(ScanRecord.device_id == device_id,
                                          ScanRecord.nonce == nonce))
    return response


async def remember(
    session: AsyncSession, context: ScanContext, outcome: ScanOutcome,
) -> dict[str, Any] | None:
    """Log the scan under its nonce and return its answer; None if the nonce was already
    logged (a retry): the caller then rolls back and answers `stored_response`."""
    response = outcome.as_json(context.nonce)
    connection = await session.connection()
    inserted = await connection.execute(_LOG_SCAN, {
        "device_id": context.device_id, "nonce": context.nonce, "event_id": outcome.event_id,
        "ticket_id": outcome.ticket_id, "scanner_user_id": context.user_id,
        "source": context.source, "result": outcome.result.value,
        "scanned_at": context.scanned_at, "response": response})
    return response if inserted.first() is not None else None


async def settle(
    session: AsyncSession, context: ScanContext, outcome: ScanOutcome,
) -> dict[str, Any]:
    """Commit the scan with its answer, or, for a nonce seen before, undo this attempt
    (including any check-in it made) and repeat the first answer."""
    response = await remember(session, context, outcome)
    if response is not None:
        await session.commit()
        return response
    await session.rollback()
    earlier = await stored_response(session, context.device_id, context.nonce)
    assert earlier is not None
    return earlier

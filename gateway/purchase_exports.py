"""A venue's downloads of one event: orders and attendees as CSV, and the audit log.

Each handler checks the reader first (catalog.managed_event: the venue's admins and
platform admins; 404 if they cannot see the event, 403 if they can but may not manage
it), so a refusal is a problem document, and only then starts a streamed answer whose
rows come from the domain parts (purchase/order_export.py, scanner/attendees.py,
catalog/audit_log.py), written by gateway/csv_export.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

import catalog
from catalog import audit_log
from core.audit import AuditRow
from core.models import Event
from gateway.auth import require_user
from gateway.context import services_of
from gateway.csv_export import Cell, attachment_name, csv_response
from gateway.openapi import documented
from gateway.path_ids import MAX_ID
from gateway.problems import Problem
from gateway.schemas.audit import AuditPage
from purchase import order_export
from scanner import attendees

DEFAULT_AUDIT_PAGE = 50
AUDIT_HEADER = ("id", "at", "actor_user_id", "actor_email", "action", "subject_type",
                "subject_id", "details")


async def _managed_event(request: Request) -> Event:
    user = await require_user(request)
    async with services_of(request).sessionmaker() as session:
        return await catalog.managed_event(session, user, request.path_params["event_id"])


@documented(auth="venue_admin", media_type="text/csv")
async def orders_csv(request: Request) -> Response:
    """The event's orders as CSV, one row per order (venue admins)."""
    event = await _managed_event(request)
    rows = order_export.order_rows(services_of(request).sessionmaker, event)
    return csv_response(attachment_name("event", event.id, "orders"), order_export.HEADER, rows)


@documented(auth="venue_admin", media_type="text/csv")
async def attendees_csv(request: Request) -> Response:
    """The event's attendees as CSV, one row per ticket, with check-in time (venue admins)."""
    event = await _managed_event(request)
    rows = attendees.attendee_rows(services_of(request).sessionmaker, event)
    return csv_response(attachment_name("event", event.id, "attendees"), attendees.HEADER, rows)


def _entry_json(row: AuditRow) -> dict[str, Any]:
    return {"id": row.id, "at": row.at.isoformat(), "actor_user_id": row.actor_user_id,
            "actor_email": row.actor_email, "action": row.action,
            "subject_type": row.subject_type, "subject_id": row.subject_id,
            "details": row.details}


def _entry_cells(row: AuditRow) -> Sequence[Cell]:
    return (row.id, row.at, row.actor_user_id, row.actor_email, row.action, row.subject_type,
            row.subject_id, json.dumps(row.details, sort_keys=True, default=str))


async def _audit_cells(
        batches: AsyncIterator[list[AuditRow]]) -> AsyncIterator[list[Sequence[Cell]]]:
    async for batch in batches:
        yield [_entry_cells(row) for row in batch]


def _query(request: Request, name: str, *, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise Problem(422, f"{name} must be a whole number from 1 to {high}",
                      errors=[{"field": name, "message": f"between 1 and {high}"}])
    return int(raw)


@documented(response=AuditPage, auth="venue_admin")
async def event_audit(request: Request) -> Response:
    """The event's audit log, newest first (venue admins); ?limit=&cursor=, ?format=csv.

    Operator actions on the event, its drops, orders and tickets, and its venue's staff.
    `cursor` is the `next_cursor` of the previous page; `format=csv` downloads every entry."""
    fmt = request.query_params.get("format", "json")
    if fmt not in ("json", "csv"):
        raise Problem(422, "format must be json or csv",
                      errors=[{"field": "format", "message": "json or csv"}])
    limit = _query(request, "limit", high=audit_log.MAX_PAGE) or DEFAULT_AUDIT_PAGE
    cursor = _query(request, "cursor", high=MAX_ID)
    if fmt == "csv":
        event = await _managed_event(request)
        batches = audit_log.all_entries(services_of(request).sessionmaker, event)
        return csv_response(attachment_name("event", event.id, "audit"), AUDIT_HEADER,
                            _audit_cells(batches))
    user = await require_user(request)
    async with services_of(request).sessionmaker() as session:
        page = await audit_log.event_audit(session, user, request.path_params["event_id"],
                                           limit=limit, before_id=cursor)
    return JSONResponse({
        "entries": [_entry_json(row) for row in page],
        "next_cursor": str(page[-1].id) if len(page) == limit else None,
        "limit": limit,
    })


routes: list[BaseRoute] = [
    Route("/api/events/{event_id:id}/orders.csv", orders_csv, methods=["GET"]),
    Route("/api/events/{event_id:id}/attendees.csv", attendees_csv, methods=["GET"]),
    Route("/api/events/{event_id:id}/audit", event_audit, methods=["GET"]),
]

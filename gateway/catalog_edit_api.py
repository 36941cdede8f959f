"""Editing an event and its tiers after creation (venue admins): the rules are in
catalog/edits.py, a tier's way into the sale's Redis stock in bootstrap/catalog_edits.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import Field, model_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import catalog
from bootstrap.catalog_edits import change_tier
from catalog.edits import MAX_DESCRIPTION, MAX_TIER_NAME, MAX_TITLE, EventChanges, TierChanges
from core.models import TicketTier
from gateway.auth import require_user
from gateway.bodies import StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.schemas import catalog as schemas
from gateway.serialize import event_json, tier_json

Edit = TypeVar("Edit", bound=StrictBody)


def _something_sent(body: Edit) -> Edit:
    """At least one field, and none of them null (a field cannot be unset)."""
    fields = ", ".join(type(body).model_fields)
    if not body.model_fields_set:
        raise ValueError(f"send at least one of {fields}")
    nulls = sorted(field for field in body.model_fields_set if getattr(body, field) is None)
    if nulls:
        raise ValueError(f"{', '.join(nulls)} cannot be null: leave a field out to keep it")
    return body


class EventEditBody(StrictBody):
    """Only the fields sent change; at least one."""

    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE)] | None = None
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @model_validator(mode="after")
    def something_to_change(self) -> EventEditBody:
        return _something_sent(self)


class TierEditBody(StrictBody):
    """Only the fields sent change; at least one. The currency stays as created."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_TIER_NAME)] | None = None
    price_cents: Annotated[int, Field(ge=0, le=100_000_000)] | None = None
    capacity: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    per_fan_limit: Annotated[int, Field(ge=1, le=100)] | None = None

    @model_validator(mode="after")
    def something_to_change(self) -> TierEditBody:
        return _something_sent(self)


def _sent(body: StrictBody) -> dict[str, Any]:
    return {field: getattr(body, field) for field in body.model_fields_set}


def managed_tier_json(tier: TicketTier, usage: catalog.TierUsage) -> dict[str, Any]:
    return {**tier_json(tier), "sold": usage.sold, "held": usage.held,
            "price_locked": usage.price_locked}


@documented(body=EventEditBody, response=schemas.Event, auth="venue_admin")
async def edit_event(request: Request) -> Response:
    """Change an event's title, description and/or times (not once it is cancelled)."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    body = await read_json(request, EventEditBody)
    changes: EventChanges = _sent(body)  # type: ignore[assignment]
    async with services_of(request).sessionmaker() as session:
        event = await catalog.edit_event(session, user, event_id, **changes)
    return JSONResponse(event_json(event))


@documented(body=TierEditBody, response=schemas.ManagedTier, auth="venue_admin")
async def edit_tier(request: Request) -> Response:
    """Change a tier's name, per-fan limit, capacity (never below the seats sold or in
    carts; the sale's stock follows at once) or price (only before any is sold or held)."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    tier_id: int = request.path_params["tier_id"]
    body = await read_json(request, TierEditBody)
    changes: TierChanges = _sent(body)  # type: ignore[assignment]
    services = services_of(request)
    edit = await change_tier(services.purchase, user, event_id, tier_id, now=services.clock(),
                             **changes)
    return JSONResponse(managed_tier_json(edit.tier, edit.usage))


@documented(response=schemas.ManagedTierList, auth="venue_admin")
async def list_managed_tiers(request: Request) -> Response:
    """The event's tiers with the seats sold and held of each, and whether its price is locked."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    services = services_of(request)
    async with services.sessionmaker() as session:
        tiers = await catalog.managed_tiers(session, user, event_id, now=services.clock())
    return JSONResponse({"tiers": [managed_tier_json(tier, usage) for tier, usage in tiers]})


routes = [
    Route("/api/events/{event_id:id}", edit_event, methods=["PATCH"]),
    Route("/api/events/{event_id:id}/tiers", list_managed_tiers, methods=["GET"]),
    Route("/api/events/{event_id:id}/tiers/{tier_id:id}", edit_tier, methods=["PATCH"]),
]

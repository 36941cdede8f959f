"""Venues, staff, events, tiers and drops: what a venue sets up before a drop."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import catalog
from bootstrap.queue_configs import sync_event_drops
from core.errors import Invalid
from gateway.auth import optional_user, require_user
from gateway.bodies import Id, StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.schemas import catalog as schemas
from gateway.serialize import drop_json, drop_view_json, event_json, tier_json, venue_json

Name = Annotated[str, Field(min_length=1, max_length=200)]
Count = Annotated[int, Field(ge=1, le=1_000_000)]


class VenueBody(StrictBody):
    name: Name
    city: Name
    timezone: Annotated[str, Field(min_length=1, max_length=64)]


class EventBody(StrictBody):
    venue_id: Id
    title: Annotated[str, Field(min_length=1, max_length=300)]
    starts_at: datetime
    ends_at: datetime
    description: Annotated[str, Field(max_length=10_000)] = ""
    published: bool = False


class TierBody(StrictBody):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    price_cents: Annotated[int, Field(ge=0, le=100_000_000)]
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    capacity: Annotated[int, Field(ge=0, le=10_000_000)]
    per_fan_limit: Annotated[int, Field(ge=1, le=100)]


JoinLimit = Annotated[int, Field(ge=0, le=catalog.MAX_JOIN_LIMIT)]


class DropBody(StrictBody):
    event_id: Id
    mode: Literal["direct", "lottery"]
    prequeue_opens_at: datetime
    opens_at: datetime
    closes_at: datetime
    admit_per_minute: Count
    max_active: Count
    session_seconds: Annotated[int, Field(ge=30, le=catalog.MAX_SESSION_SECONDS)]
    hold_seconds: Annotated[int, Field(ge=60, le=3600)] = 600
    # Only accounts with a verified email may join (docs/security.md).
    requires_verified_email: bool = False
    # Bot guards at join (docs/security.md, "Joining a drop").
    challenge_difficulty: Annotated[
        int, Field(ge=0, le=catalog.MAX_CHALLENGE_DIFFICULTY)
    ] = catalog.DEFAULT_CHALLENGE_DIFFICULTY
    join_limit_per_ip: JoinLimit | None = None
    join_limit_per_network: JoinLimit | None = None


def _now(request: Request) -> datetime:
    moment: datetime = services_of(request).clock()
    return moment


@documented(body=VenueBody, response=schemas.Venue, auth="user", status=201)
async def create_venue(request: Request) -> Response:
    """Create a venue; a non-admin creator becomes its venue_admin (of this venue only).

    Under TICKETQ_VENUE_APPROVAL=required a venue made by a non-admin is `pending`: it
    can set up drafts but publishes only once a platform admin approves it."""
    user = await require_user(request)
    body = await read_json(request, VenueBody)
    services = services_of(request)
    async with services.sessionmaker() as session:
        venue = await catalog.create_venue(
            session, user, name=body.name, city=body.city, timezone=body.timezone,
            approval_required=services.settings.venue_approval_required,
        )
    return JSONResponse(venue_json(venue), status_code=201)


@documented(body=EventBody, response=schemas.Event, auth="venue_admin", status=201)
async def create_event(request: Request) -> Response:
    """Create an event (a draft unless `published` is true)."""
    user = await require_user(request)
    body = await read_json(request, EventBody)
    async with services_of(request).sessionmaker() as session:
        event = await catalog.create_event(
            session,
            user,
            venue_id=body.venue_id,
            title=body.title,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            description=body.description,
            published=body.published,
        )
    return JSONResponse(event_json(event), status_code=201)


@documented(response=schemas.Event, auth="venue_admin")
async def publish_event(request: Request) -> Response:
    """Publish a draft event so fans can see it and its drops."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    async with services_of(request).sessionmaker() as session:
        event = await catalog.publish_event(session, user, event_id)
    # The waiting room checks visibility from Redis on every join: open the drops now.
    services = services_of(request)
    await sync_event_drops(services.redis, services.sessionmaker, event_id)
    return JSONResponse(event_json(event))


def search_filters(request: Request, *,
                   upcoming: bool = False) -> tuple[catalog.EventSearch, list[str]]:
    """The fans' filters from the query: `city`, `date` (YYYY-MM-DD, the venue's calendar
    day), `q` (words), and a sentence for each bad one, which is left out of the search.
    The one reader of these filters: GET /api/events refuses a bad one (422), the home page
    says what is wrong next to its form."""
    params = request.query_params
    problems: list[str] = []
    terms: dict[str, str] = {}
    for name in ("city", "q", "date"):
        value = params.get(name, "").strip()
        if len(value) > catalog.event_search.MAX_TERM_LENGTH:
            problems.append(
                f"{name} is longer than {catalog.event_search.MAX_TERM_LENGTH} characters")
        else:
            terms[name] = value
    day = None
    if raw_day := terms.get("date"):
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            problems.append("date must be a day as YYYY-MM-DD, e.g. 2031-05-01")
    search = catalog.EventSearch(
        city=terms.get("city") or None, day=day, text=terms.get("q") or None,
        ending_after=_now(request) if upcoming or params.get("upcoming") == "true" else None,
    )
    return search, problems


def event_search(request: Request, *, upcoming: bool = False) -> catalog.EventSearch:
    """search_filters for an API client: a bad value is a 422 naming it."""
    search, problems = search_filters(request, upcoming=upcoming)
    if problems:
        raise Invalid("; ".join(problems))
    return search


@documented(response=schemas.EventList)
async def list_events(request: Request) -> Response:
    """Published events, soonest first; filter with ?city=, ?date=YYYY-MM-DD, ?q=, ?upcoming=true.

    `date` is the event's start day on the venue's own calendar; `q` matches every word in
    the title, description or venue name; `upcoming=true` leaves out events already over."""
    search = event_search(request)
    async with services_of(request).sessionmaker() as session:
        found = await catalog.search_published_events(session, search)
    return JSONResponse({"events": [event_json(event) for event, _venue in found]})


@documented(response=schemas.EventWithTiers)
async def get_event(request: Request) -> Response:
    """One event with its tiers (drafts only for their venue's admins)."""
    viewer = await optional_user(request)
    event_id: int = request.path_params["event_id"]
    async with services_of(request).sessionmaker() as session:
        event = await catalog.visible_event(session, viewer, event_id)
        tiers = await catalog.event_tiers(session, event.id)
    return JSONResponse({**event_json(event), "tiers": [tier_json(tier) for tier in tiers]})


@documented(body=TierBody, response=schemas.Tier, auth="venue_admin", status=201)
async def create_tier(request: Request) -> Response:
    """Add a ticket tier (GA, VIP, ...) to an event."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    body = await read_json(request, TierBody)
    async with services_of(request).sessionmaker() as session:
        tier = await catalog.create_tier(
            session,
            user,
            event_id=event_id,
            name=body.name,
            price_cents=body.price_cents,
            currency=body.currency,
            capacity=body.capacity,
            per_fan_limit=body.per_fan_limit,
        )
    return JSONResponse(tier_json(tier), status_code=201)


@documented(body=DropBody, response=schemas.Drop, auth="venue_admin", status=201)
async def create_drop(request: Request) -> Response:
    """Schedule a drop (direct or lottery) for an event."""
    user = await require_user(request)
    body = await read_json(request, DropBody)
    schedule = catalog.DropSchedule(
        mode=body.mode,
        prequeue_opens_at=body.prequeue_opens_at,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        admit_per_minute=body.admit_per_minute,
        max_active=body.max_active,
        session_seconds=body.session_seconds,
        hold_seconds=body.hold_seconds,
        requires_verified_email=body.requires_verified_email,
        challenge_difficulty=body.challenge_difficulty,
        join_limit_per_ip=body.join_limit_per_ip,
        join_limit_per_network=body.join_limit_per_network,
    )
    async with services_of(request).sessionmaker() as session:
        drop = await catalog.create_drop(session, user, event_id=body.event_id, schedule=schedule)
    return JSONResponse(drop_json(drop, _now(request)), status_code=201)


@documented(response=schemas.DropView)
async def get_drop(request: Request) -> Response:
    """A drop with its event, venue, tiers and current state (public once published)."""
    viewer = await optional_user(request)
    drop_id: int = request.path_params["drop_id"]
    async with services_of(request).sessionmaker() as session:
        view = await catalog.visible_drop(session, viewer, drop_id)
    return JSONResponse(drop_view_json(view, _now(request)))


@documented(response=schemas.StaffVenues, auth="user")
async def my_venues(request: Request) -> Response:
    """The venues the caller works for, with their events, tiers and drops."""
    user = await require_user(request)
    now = _now(request)
    async with services_of(request).sessionmaker() as session:
        overviews = await catalog.staff_venues(session, user)
    return JSONResponse(
        {
            "venues": [
                {
                    **venue_json(overview.venue),
                    "role": overview.role,
                    "events": [
                        {
                            **event_json(event),
                            "tiers": [tier_json(tier) for tier in overview.tiers[event.id]],
                            "drops": [drop_json(drop, now) for drop in overview.drops[event.id]],
                        }
                        for event in overview.events
                    ],
                }
                for overview in overviews
            ]
        }
    )


routes = [
    Route("/api/me/venues", my_venues, methods=["GET"]),
    Route("/api/venues", create_venue, methods=["POST"]),
    Route("/api/events", create_event, methods=["POST"]),
    Route("/api/events", list_events, methods=["GET"], name="list_events"),
    Route("/api/events/{event_id:id}", get_event, methods=["GET"]),
    Route("/api/events/{event_id:id}/publish", publish_event, methods=["POST"]),
    Route("/api/events/{event_id:id}/tiers", create_tier, methods=["POST"]),
    Route("/api/drops", create_drop, methods=["POST"]),
    Route("/api/drops/{drop_id:id}", get_drop, methods=["GET"]),
]

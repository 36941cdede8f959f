"""Pages that belong to no single part: the home page and sign-in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import catalog
from core.drop_phase import drop_phase
from core.models import Drop, Venue
from gateway.context import services_of
from gateway.templating import templates


async def home(request: Request) -> Response:
    """Upcoming published events and their drops."""
    now = services_of(request).clock()
    async with services_of(request).sessionmaker() as session:
        events = await catalog.list_published_events(session, limit=50)
        items: list[dict[str, Any]] = []
        for event in events:
            venue = await session.get(Venue, event.venue_id)
            drops = await session.scalars(
                select(Drop).where(Drop.event_id == event.id).order_by(Drop.opens_at)
            )
            visible = [
                {"id": drop.id, "mode": drop.mode, "phase": drop_phase(drop, now).value}
                for drop in drops
                if drop_phase(drop, now).value not in {"closed", "cancelled"}
            ]
            items.append({"event": event, "venue": venue, "drops": visible})
    return templates.TemplateResponse(request, "home.html", {"events": items})


async def login_page(request: Request) -> Response:
    """Sign in or create an account."""
    return templates.TemplateResponse(request, "login.html", {})


async def venue_page(request: Request) -> Response:
    """Venue tools: the caller's venues, events and drops, and forms to launch a drop."""
    return templates.TemplateResponse(request, "venue.html", {})


routes: list[BaseRoute] = [
    Route("/venue", venue_page, methods=["GET"], include_in_schema=False),
    Route("/", home, methods=["GET"], include_in_schema=False),
    Route("/login", login_page, methods=["GET"], include_in_schema=False),
]

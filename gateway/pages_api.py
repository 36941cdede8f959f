"""Pages that belong to no single part: the home page and sign-in."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import catalog
from accounts import oidc
from core.drop_phase import drop_phase
from core.models import Drop
from gateway.catalog_api import search_filters
from gateway.context import services_of
from gateway.templating import templates

# Which drop speaks for an event on the home page: the one a fan can act on soonest.
PHASE_ORDER = ("open", "paused", "prequeue", "scheduled", "sold_out", "closed", "cancelled")


async def home(request: Request) -> Response:
    """Upcoming published events: venue-local date, price range, sale state; filters
    ?city=, ?date=, ?q= as on GET /api/events. A bad filter is a page that says so beside
    the form (the other filters still apply), not the API's JSON 422."""
    search, filter_problems = search_filters(request, upcoming=True)
    now = services_of(request).clock()
    async with services_of(request).sessionmaker() as session:
        found = await catalog.search_published_events(session, search, limit=50)
        cities = await catalog.published_cities(session)
        items: list[dict[str, Any]] = []
        for event, venue in found:
            drops = await session.scalars(
                select(Drop).where(Drop.event_id == event.id).order_by(Drop.opens_at)
            )
            tiers = await catalog.event_tiers(session, event.id)
            visible = [
                {"id": drop.id, "mode": drop.mode, "phase": drop_phase(drop, now).value,
                 "opens_at": drop.opens_at}
                for drop in drops
                if drop_phase(drop, now).value != "cancelled"
            ]
            visible.sort(key=lambda drop: PHASE_ORDER.index(drop["phase"]))
            items.append({
                "event": event, "venue": venue, "drops": visible,
                "lead": visible[0] if visible else None,
                "prices": [(tier.price_cents, tier.currency) for tier in tiers],
            })
    return templates.TemplateResponse(request, "home.html", {
        "events": items, "cities": cities, "search": search, "query": search.text or "",
        "filter_problems": filter_problems,
    })


MAX_NEXT_LENGTH = 2000


def _is_local_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return False
    # Printable ASCII only: no whitespace or control characters, which browsers strip
    # (so "/\t/evil.example" would become "//evil.example"); our own links encode the rest.
    if not all(0x21 <= ord(char) <= 0x7E for char in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def safe_next(raw: str | None) -> str:
    """Where to send someone after sign-in: `raw` if it is a path on this site, else "/".

    The only check of a `next` value: the login page renders its result for its JS,
    which navigates to nothing else. Checked as given and once more percent-decoded,
    so an encoded backslash or tab is refused too.
    """
    if not raw or len(raw) > MAX_NEXT_LENGTH:
        return "/"
    return raw if _is_local_path(raw) and _is_local_path(unquote(raw)) else "/"


async def login_page(request: Request) -> Response:
    """Sign in or create an account, then go back to a page on this site."""
    next_path = safe_next(request.query_params.get("next"))
    # "Sign in with ..." links for the configured OpenID Connect providers (docs/accounts.md).
    providers = sorted(oidc.configured(services_of(request).settings))
    return templates.TemplateResponse(request, "login.html", {"next_path": next_path,
                                                              "oidc_providers": providers})


async def venue_page(request: Request) -> Response:
    """Venue tools: the caller's venues, events and drops, and forms to launch a drop."""
    return templates.TemplateResponse(request, "venue.html", {})


routes: list[BaseRoute] = [
    Route("/venue", venue_page, methods=["GET"], include_in_schema=False),
    Route("/", home, methods=["GET"], include_in_schema=False),
    Route("/login", login_page, methods=["GET"], include_in_schema=False),
]

"""The venue's live view of a drop: queue numbers from Redis, for its dashboard page,
and the frames of the venue's management pages (a drop's dashboard, an event's page).

Sales per tier come from the purchase part (`GET /api/events/{id}/sales`); the
page combines both and offers the operator controls of the queue part. The charts
are sampled by the page from that poll (static/dashboard_charts.js), so no series API.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

import catalog
from core.clock import to_ms
from gateway.auth import require_user
from gateway.context import services_of
from gateway.openapi import documented
from gateway.schemas.dashboard import DropStats
from gateway.serialize import drop_json
from gateway.templating import templates
from queue_engine.positions import read_status


@documented(response=DropStats, auth="venue_admin")
async def drop_stats(request: Request) -> Response:
    """Live queue numbers of a drop: line, pre-queue, passes, admission rate (venue admins)."""
    user = await require_user(request)
    drop_id: int = request.path_params["drop_id"]
    now = services_of(request).clock()
    async with services_of(request).sessionmaker() as session:
        view = await catalog.managed_drop(session, user, drop_id)
    status = await read_status(services_of(request).scripts, drop_id, now_ms=to_ms(now))
    # Observed only (docs/operating-a-drop.md): the estimate's fallback to the configured
    # rate would show a pace nobody was admitted at.
    observed = status.observed_admissions_per_minute() if status.synced else None
    return JSONResponse(
        {
            "drop": drop_json(view.drop, now),
            "event_id": view.event.id,
            "queue": {
                "phase": status.phase,
                # Every seat held or sold, carts may still expire: admission waits by itself.
                "tickets_in_carts": status.tickets_in_carts,
                "waiting": status.line_length,
                "prequeue": status.prequeue_size,
                "active_passes": status.live_passes,
                "admitted_total": status.admitted_total,
                "admitted_last_minute": status.admitted_in_window,
                "observed_admit_per_minute": None if observed is None else round(observed, 1),
                "configured_admit_per_minute": view.drop.admit_per_minute,
                "max_active": view.drop.max_active,
            },
        }
    )


async def dashboard_page(request: Request) -> Response:
    """The venue dashboard of one drop (data loads from the JSON API)."""
    drop_id: int = request.path_params["drop_id"]
    return templates.TemplateResponse(request, "dashboard.html", {"drop_id": drop_id})


async def event_page(request: Request) -> Response:
    """The venue's page of one event: tiers, publish, drops and their settings, cancel."""
    event_id: int = request.path_params["event_id"]
    return templates.TemplateResponse(request, "venue_event.html", {"event_id": event_id})


routes: list[BaseRoute] = [
    Route("/venue/events/{event_id:id}", event_page, methods=["GET"], include_in_schema=False),
    Route("/api/drops/{drop_id:id}/stats", drop_stats, methods=["GET"]),
    Route("/venue/drops/{drop_id:id}", dashboard_page, methods=["GET"], include_in_schema=False),
]

"""The fan's waiting-room page `/drops/{id}`: server-rendered frame, kept live by
gateway/static/queue.js over the WebSocket (polling when WebSockets fail)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from catalog import visible_drop
from core.drop_phase import drop_phase
from core.errors import DomainError
from gateway.auth import optional_user
from gateway.context import services_of
from gateway.openapi import documented
from gateway.problems import Problem
from gateway.templating import templates


@documented(media_type="text/html")
async def drop_page(request: Request) -> Response:
    """A drop's waiting room: join, watch your place fall, then go buy."""
    drop_id: int = request.path_params["drop_id"]
    try:
        viewer = await optional_user(request)
    except Problem:
        viewer = None  # a stale cookie: show the page with a sign-in link
    try:
        async with services_of(request).sessionmaker() as session:
            view = await visible_drop(session, viewer, drop_id)
    except DomainError:
        return templates.TemplateResponse(request, "queue_missing.html", {}, status_code=404)
    if view.drop.mode == "lottery":
        return RedirectResponse(f"/drops/{drop_id}/lottery", status_code=303)
    return templates.TemplateResponse(request, "drop.html", {
        "view": view, "phase": drop_phase(view.drop, services_of(request).clock()).value,
        "signed_in": viewer is not None, "now": services_of(request).clock(),
    })

"""HTML pages of lottery drops: the fan's page and the venue's page.

The server renders the frame (event, window, commitment); gateway/static/lottery.js
keeps it live from the JSON API (countdown, entry form, result, settlement progress).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from catalog import visible_drop
from catalog.authz import can_manage_venue
from core.errors import DomainError
from gateway.auth import optional_user
from gateway.context import services_of
from gateway.templating import templates
from lottery.config import CAPTURE_NOTES
from lottery.models import LotteryDrop
from lottery.published import lottery_json
from payments.stripe_js import stripe_js


def _message(request: Request, status: int, title: str, message: str) -> Response:
    return templates.TemplateResponse(
        request, "lottery_message.html", {"title": title, "message": message},
        status_code=status)


async def fan_page(request: Request) -> Response:
    """The fan's lottery page: window countdown, entry form, entry and result."""
    drop_id: int = request.path_params["drop_id"]
    try:
        viewer = await optional_user(request)
        async with services_of(request).sessionmaker() as session:
            view = await visible_drop(session, viewer, drop_id)
            lottery = await session.get(LotteryDrop, drop_id)
    except DomainError:
        return _message(request, 404, "Not found", "There is no such drop.")
    if view.drop.mode != "lottery":
        return _message(request, 404, "Not a lottery", "This drop sells first come, first served.")
    return templates.TemplateResponse(request, "lottery_fan.html", {
        "view": view, "lottery": lottery_json(lottery, view.drop) if lottery else None,
        "capture_note": CAPTURE_NOTES[lottery.capture_mode] if lottery else "",
        "draw_at": lottery.draw_at if lottery else None,
        "signed_in": viewer is not None, "stripe": stripe_js(services_of(request).settings),
    })


async def venue_page(request: Request) -> Response:
    """The venue's lottery page: entries, commitment, draw and settlement progress."""
    drop_id: int = request.path_params["drop_id"]
    try:
        viewer = await optional_user(request)
        if viewer is None:
            return _message(request, 401, "Sign in", "Sign in as this venue's admin first.")
        async with services_of(request).sessionmaker() as session:
            view = await visible_drop(session, viewer, drop_id)
            allowed = await can_manage_venue(session, viewer, view.event.venue_id)
            lottery = await session.get(LotteryDrop, drop_id)
    except DomainError:
        return _message(request, 404, "Not found", "There is no such drop.")
    if not allowed:
        return _message(request, 403, "Forbidden", "Only this venue's admins may see this page.")
    if view.drop.mode != "lottery":
        return _message(request, 404, "Not a lottery", "This drop sells first come, first served.")
    zone = ZoneInfo(view.venue.timezone)  # the page's times are the venue's wall clock
    return templates.TemplateResponse(request, "lottery_venue.html", {
        "view": view, "lottery": lottery_json(lottery, view.drop) if lottery else None,
        "timezone": view.venue.timezone,
        "opens_local": view.drop.opens_at.astimezone(zone),
        "closes_local": view.drop.closes_at.astimezone(zone),
        "draw_local": lottery.draw_at.astimezone(zone) if lottery else None,
    })


routes = [
    Route("/drops/{drop_id:id}/lottery", fan_page, methods=["GET"], name="lottery_fan_page",
          include_in_schema=False),
    Route("/venue/drops/{drop_id:id}/lottery", venue_page, methods=["GET"],
          name="lottery_venue_page", include_in_schema=False),
]

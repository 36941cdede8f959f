"""The fan's purchase page `/drops/{id}/buy` and order list `/me/orders`.

Server-rendered frames; gateway/static/buy.js does the rest through the JSON API
with the session cookie (hold with a countdown, pay with the Stripe.js card field of
gateway/static/card_field.js, see the order).
The admission pass never rides in the page's URL (`?pass=` is refused, it is logged):
buy.js reads the fan's own pass from GET /api/drops/{id}/queue with the session.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from catalog import visible_drop
from core.errors import DomainError
from gateway.auth import optional_user
from gateway.context import services_of
from gateway.problems import Problem
from gateway.templating import templates
from gateway.url_credentials import refuse_url_credentials
from payments.stripe_js import stripe_js


async def buy_page(request: Request) -> Response:
    """Choose GA/VIP tickets, hold them for a few minutes, pay."""
    drop_id: int = request.path_params["drop_id"]
    refuse_url_credentials(request)
    try:
        viewer = await optional_user(request)
    except Problem:
        viewer = None
    try:
        async with services_of(request).sessionmaker() as session:
            view = await visible_drop(session, viewer, drop_id)
    except DomainError:
        return templates.TemplateResponse(request, "queue_missing.html", {}, status_code=404)
    return templates.TemplateResponse(request, "buy.html", {
        "view": view, "signed_in": viewer is not None,
        "stripe": stripe_js(services_of(request).settings),
        "hold_minutes": max(1, view.drop.hold_seconds // 60),
    })


async def orders_page(request: Request) -> Response:
    """The fan's orders and their state."""
    return templates.TemplateResponse(request, "orders.html", {})


routes = [
    Route("/drops/{drop_id:id}/buy", buy_page, methods=["GET"], include_in_schema=False),
    Route("/me/orders", orders_page, methods=["GET"], include_in_schema=False),
]

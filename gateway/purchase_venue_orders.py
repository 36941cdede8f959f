"""The venue's view of an event's orders, and the full refund of one order.

`POST /api/orders/{id}/refund` answers 200 with the order as it stands whether this
call refunded it or an earlier one had (`refunded_now` says which), so a double
click, a retry after a timeout or ten tabs pressing at once all read the same
answer, and only the first one refunds (purchase/order_refunds.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.auth import require_user
from gateway.bodies import StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.problems import Problem
from gateway.purchase_serialize import order_json
from gateway.schemas import purchase as schemas
from gateway.totp_api import require_fresh_second_factor
from purchase import order_refunds, orders

MAX_PAGE = 100


class RefundBody(StrictBody):
    # Shown to the fan in the refund email and on their order.
    reason: Annotated[str, Field(min_length=1, max_length=400)]


def _query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise Problem(422, f"{name} must be a whole number from {low} to {high}",
                      errors=[{"field": name, "message": f"between {low} and {high}"}])
    return int(raw)


@documented(response=schemas.EventOrderPage, auth="venue_admin")
async def event_orders(request: Request) -> Response:
    """A page of the event's orders, newest first (venue admins); ?limit=&offset=."""
    user = await require_user(request)
    limit = _query_int(request, "limit", 50, 1, MAX_PAGE)
    offset = _query_int(request, "offset", 0, 0, 10_000_000)
    views, total = await orders.event_orders(services_of(request).purchase, user,
                                             event_id=request.path_params["event_id"],
                                             limit=limit, offset=offset)
    return JSONResponse({"orders": [order_json(view) for view in views], "total": total,
                         "limit": limit, "offset": offset})


@documented(body=RefundBody, response=schemas.OrderRefund, auth="venue_admin")
async def refund_order(request: Request) -> Response:
    """Refund a paid order in full (the event's venue admins); repeats change nothing.

    An account with 2FA needs a fresh second factor (or X-TOTP-Code; docs/accounts.md)."""
    user = await require_user(request)
    body = await read_json(request, RefundBody)
    await require_fresh_second_factor(request)
    services = services_of(request)
    outcome = await order_refunds.refund_by_venue(
        services.purchase, user, order_id=str(request.path_params["order_id"]),
        reason=body.reason, now=services.clock())
    return JSONResponse({**order_json(outcome.view), "refunded_now": outcome.refunded_now})


routes: list[BaseRoute] = [
    Route("/api/events/{event_id:id}/orders", event_orders, methods=["GET"]),
    Route("/api/orders/{order_id:uuid}/refund", refund_order, methods=["POST"]),
]

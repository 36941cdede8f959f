"""Purchase: holds, checkout, orders, sales and event cancellation over HTTP.

Handlers parse, authorise and call a purchase service; the hold endpoint, the hot
path of a drop, reads no database row before Redis has said yes (the caller's id
comes from its signed token, the admission pass is verified by signature, then
reserve_hold checks it is live inside the same atomic script as the stock).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bootstrap.queue_configs import sync_event_drops
from catalog import managed_event
from core import logs
from gateway import purchase_pages, purchase_venue_orders, purchase_webhooks
from gateway.auth import require_user, require_user_id
from gateway.bodies import Id, StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.problems import Problem
from gateway.purchase_serialize import checkout_json, hold_json, order_json, progress_json
from gateway.schemas import purchase as schemas
from gateway.totp_api import require_fresh_second_factor
from purchase import cancellation, checkout, holds, orders
from purchase.context import PurchaseContext

PASS_HEADER = "x-admission-pass"
log = logging.getLogger("ticketq.purchase")


class HoldItemBody(StrictBody):
    tier_id: Id
    quantity: Annotated[int, Field(ge=1, le=100)]


class HoldBody(StrictBody):
    items: Annotated[list[HoldItemBody], Field(min_length=1, max_length=holds.MAX_ITEMS)]


class CheckoutBody(StrictBody):
    # A Stripe PaymentMethod id (API clients, Locust: pm_card_visa, pm_card_chargeCustomerFail)
    # or the card_ id of a Stripe.js token (the offline page). Omitted, the answer carries an
    # unconfirmed intent's client_secret for Stripe.js to confirm in the browser.
    payment_method: Annotated[str, Field(pattern=r"^(pm|card)_[A-Za-z0-9_]{1,200}$")] | None = None


class CancelBody(StrictBody):
    reason: Annotated[str, Field(max_length=500)] = ""


def purchase_context(request: Request) -> PurchaseContext:
    context: PurchaseContext = services_of(request).purchase
    return context


def _now(request: Request) -> datetime:
    moment: datetime = services_of(request).clock()
    return moment


@documented(body=HoldBody, response=schemas.Hold, auth="user", status=201)
async def create_hold(request: Request) -> Response:
    """Hold tickets for a few minutes (needs the X-Admission-Pass header from the queue)."""
    fan_id = await require_user_id(request)
    drop_id: int = request.path_params["drop_id"]
    admission_pass = request.headers.get(PASS_HEADER, "").strip()
    if not admission_pass:
        raise Problem(401, "send your admission pass in the X-Admission-Pass header")
    logs.bind(fan_id=fan_id, drop_id=drop_id)
    body = await read_json(request, HoldBody)
    receipt = await holds.create_hold(
        purchase_context(request), drop_id=drop_id, fan_id=fan_id, admission_pass=admission_pass,
        items=[(item.tier_id, item.quantity) for item in body.items], now=_now(request))
    logs.bind(hold_id=receipt.hold_id)
    log.info("hold created: %d tickets until %s", sum(line.quantity for line in receipt.items),
             receipt.expires_at.isoformat())
    return JSONResponse(hold_json(receipt), status_code=201)


@documented(auth="user", status=204)
async def release_hold(request: Request) -> Response:
    """Let go of a hold; its tickets go back on sale."""
    fan_id = await require_user_id(request)
    hold_id = str(request.path_params["hold_id"])
    await holds.cancel_hold(purchase_context(request), hold_id=hold_id,
                            fan_id=fan_id, now=_now(request))
    return Response(status_code=204)


@documented(body=CheckoutBody, response=schemas.CheckoutResult, auth="user")
async def checkout_hold(request: Request) -> Response:
    """Pay for a hold: one order and at most one charge per hold, however often it is sent."""
    fan_id = await require_user_id(request)
    hold_id = str(request.path_params["hold_id"])
    logs.bind(fan_id=fan_id, hold_id=hold_id)
    body = await read_json(request, CheckoutBody)  # {} is a valid body: the browser confirms
    result = await checkout.checkout(purchase_context(request), hold_id=hold_id, fan_id=fan_id,
                                     payment_method=body.payment_method, now=_now(request))
    logs.bind(order_id=result.order_id)
    log.info("checkout: order %s", result.status)
    return JSONResponse(checkout_json(result))


@documented(response=schemas.OrderList, auth="user")
async def my_orders(request: Request) -> Response:
    """The caller's orders, newest first, with their tickets."""
    fan_id = await require_user_id(request)
    views = await orders.orders_of(purchase_context(request), fan_id=fan_id)
    return JSONResponse({"orders": [order_json(view) for view in views]})


@documented(response=schemas.Order, auth="user")
async def get_order(request: Request) -> Response:
    """One of the caller's orders; a pending one is settled with Stripe first."""
    fan_id = await require_user_id(request)
    order_id = str(request.path_params["order_id"])
    view = await orders.order_for_owner(purchase_context(request), fan_id=fan_id,
                                        order_id=order_id, now=_now(request))
    return JSONResponse(order_json(view))


@documented(response=schemas.EventSales, auth="venue_admin")
async def event_sales(request: Request) -> Response:
    """Sold, held and remaining per tier, and revenue (the event's venue admins)."""
    user = await require_user(request)
    sales = await orders.event_sales(purchase_context(request), user,
                                     event_id=request.path_params["event_id"], now=_now(request))
    return JSONResponse(sales)


@documented(body=CancelBody, response=schemas.CancellationProgress, auth="venue_admin",
            status=202)
async def cancel_event(request: Request) -> Response:
    """Cancel the event: sales stop, every paid order is refunded in batches by the worker.

    An account with 2FA needs a fresh second factor (or X-TOTP-Code; docs/accounts.md)."""
    user = await require_user(request)
    body = await read_json(request, CancelBody)
    await require_fresh_second_factor(request)
    event_id: int = request.path_params["event_id"]
    state = await cancellation.cancel_event(purchase_context(request), user, event_id=event_id,
                                            reason=body.reason, now=_now(request))
    # Joins are checked against Redis meta only: tell the waiting room at once, since the
    # admission worker stops ticking cancelled drops.
    services = services_of(request)
    await sync_event_drops(services.redis, services.sessionmaker, event_id)
    return JSONResponse(progress_json(state), status_code=202)


@documented(response=schemas.CancellationProgress, auth="venue_admin")
async def cancellation_progress(request: Request) -> Response:
    """How far the refunds of a cancelled event have got."""
    user = await require_user(request)
    event_id: int = request.path_params["event_id"]
    context = purchase_context(request)
    async with context.sessionmaker() as session:
        await managed_event(session, user, event_id)
    return JSONResponse(progress_json(await cancellation.progress(context, event_id)))


routes: list[BaseRoute] = [
    Route("/api/drops/{drop_id:id}/holds", create_hold, methods=["POST"]),
    Route("/api/holds/{hold_id:uuid}", release_hold, methods=["DELETE"]),
    Route("/api/holds/{hold_id:uuid}/checkout", checkout_hold, methods=["POST"]),
    Route("/api/me/orders", my_orders, methods=["GET"]),
    Route("/api/orders/{order_id:uuid}", get_order, methods=["GET"]),
    Route("/api/events/{event_id:id}/sales", event_sales, methods=["GET"]),
    Route("/api/events/{event_id:id}/cancel", cancel_event, methods=["POST"]),
    Route("/api/events/{event_id:id}/cancellation", cancellation_progress, methods=["GET"]),
    *purchase_venue_orders.routes,
    *purchase_webhooks.routes,
    *purchase_pages.routes,
]

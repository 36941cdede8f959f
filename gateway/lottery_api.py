"""Lottery drops over HTTP: venue configuration, fans' entries, the public draw, progress."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from pydantic import Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from catalog import managed_drop
from gateway import lottery_pages
from gateway.auth import optional_user, require_user, require_user_id
from gateway.bodies import StrictBody, path_int, read_json
from gateway.openapi import documented
from gateway.problems import Problem
from lottery import entries as lottery_entries
from lottery.config import (
    CAPTURE_NOTES,
    LotterySettings,
    configure_lottery,
    lottery_for_view,
    visible_lottery,
)
from lottery.payments import HeldPayments
from lottery.published import draw_document, entry_json, lottery_json, settlement_progress
from payments.errors import PaymentDeclined
from payments.stripe_client import from_settings


class LotteryConfigBody(StrictBody):
    draw_at: datetime
    max_quantity_per_entry: Annotated[int, Field(ge=1, le=100)]
    public_randomness: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    allow_capture_now: bool = False


class EntryBody(StrictBody):
    tier_id: Annotated[int, Field(ge=1)]
    quantity: Annotated[int, Field(ge=1, le=100)]
    payment_method: Annotated[str, Field(min_length=3, max_length=255,
                                         pattern=r"^[A-Za-z0-9_]+$")]


def _now(request: Request) -> datetime:
    moment: datetime = request.app.state.clock()
    return moment


def _payments(request: Request) -> HeldPayments:
    payments: HeldPayments | None = getattr(request.app.state, "lottery_payments", None)
    if payments is None:
        raise Problem(503, "payments are not configured (STRIPE_API_KEY); entries are closed",
                      headers={"Retry-After": "60"})
    return payments


@documented(body=LotteryConfigBody, auth="venue_admin")
async def configure(request: Request) -> Response:
    """Set up a lottery drop: draw time, seats per entry, optional public randomness.

    Draws more than 6 days after the window opens are refused unless
    allow_capture_now is true, which charges on entry and refunds losers; the
    response's capture_mode and capture_note say which applies.
    """
    user = await require_user(request)
    drop_id = path_int(request, "drop_id")
    body = await read_json(request, LotteryConfigBody)
    wanted = LotterySettings(draw_at=body.draw_at, public_randomness=body.public_randomness,
                             max_quantity_per_entry=body.max_quantity_per_entry,
                             allow_capture_now=body.allow_capture_now)
    async with request.app.state.sessionmaker() as session:
        result = await configure_lottery(session, user, drop_id, wanted, now=_now(request))
        view = await managed_drop(session, user, drop_id)
    return JSONResponse({**lottery_json(result.lottery, view.drop),
                         "capture_note": result.capture_note})


async def get_lottery(request: Request) -> Response:
    """A lottery's public settings: window, draw time, commitment, entry count once sealed."""
    viewer = await optional_user(request)
    drop_id = path_int(request, "drop_id")
    async with request.app.state.sessionmaker() as session:
        view, lottery = await visible_lottery(session, viewer, drop_id)
    return JSONResponse({**lottery_json(lottery, view.drop),
                         "capture_note": CAPTURE_NOTES[lottery.capture_mode]})


@documented(auth="venue_admin")
async def progress(request: Request) -> Response:
    """Entries, outcomes and settlement progress, for the venue."""
    user = await require_user(request)
    drop_id = path_int(request, "drop_id")
    async with request.app.state.sessionmaker() as session:
        view = await managed_drop(session, user, drop_id)
        lottery = await lottery_for_view(session, view)
        counts = await settlement_progress(session, drop_id)
    return JSONResponse({**lottery_json(lottery, view.drop), "settlement": counts})


async def get_draw(request: Request) -> Response:
    """Everything needed to verify the draw: commitment, entry list and hash, seed, winners.

    Fields appear as the lottery advances: entries at close, seed and winners at the draw.
    """
    viewer = await optional_user(request)
    drop_id = path_int(request, "drop_id")
    async with request.app.state.sessionmaker() as session:
        view, lottery = await visible_lottery(session, viewer, drop_id)
        document = await draw_document(session, lottery, view.drop)
    return JSONResponse(document)


@documented(body=EntryBody, auth="user", status=201)
async def enter(request: Request) -> Response:
    """Enter a lottery: holds price x quantity on the card; one entry per fan per drop."""
    user_id = require_user_id(request)
    drop_id = path_int(request, "drop_id")
    body = await read_json(request, EntryBody)
    try:
        entry = await lottery_entries.enter_lottery(
            request.app.state.sessionmaker, _payments(request), user_id=user_id,
            drop_id=drop_id, tier_id=body.tier_id, quantity=body.quantity,
            payment_method=body.payment_method, clock=request.app.state.clock)
    except PaymentDeclined as exc:
        raise Problem(402, exc.detail, title="Payment declined", code="AuthorisationDeclined") \
            from exc
    return JSONResponse(entry_json(entry), status_code=201)


@documented(auth="user")
async def list_my_entries(request: Request) -> Response:
    """Your lottery entries: entered, won or lost, and what happened to the money."""
    user_id = require_user_id(request)
    async with request.app.state.sessionmaker() as session:
        entries = await lottery_entries.my_entries(session, user_id)
    return JSONResponse({"entries": [entry_json(entry) for entry in entries]})


@contextlib.asynccontextmanager
async def held_payments(app: Starlette) -> AsyncIterator[None]:
    settings = app.state.settings
    client = from_settings(settings)
    app.state.lottery_payments = HeldPayments(client) if client is not None else None
    try:
        yield
    finally:
        if client is not None:
            await client.aclose()


lifespan_hooks = [held_payments]

routes: list[BaseRoute] = [
    Route("/api/drops/{drop_id}/lottery", configure, methods=["PUT"], name="configure_lottery"),
    Route("/api/drops/{drop_id}/lottery", get_lottery, methods=["GET"], name="get_lottery"),
    Route("/api/drops/{drop_id}/lottery/progress", progress, methods=["GET"],
          name="lottery_progress"),
    Route("/api/drops/{drop_id}/draw", get_draw, methods=["GET"], name="lottery_draw"),
    Route("/api/drops/{drop_id}/entries", enter, methods=["POST"], name="enter_lottery"),
    Route("/api/me/entries", list_my_entries, methods=["GET"], name="my_lottery_entries"),
    *lottery_pages.routes,
]

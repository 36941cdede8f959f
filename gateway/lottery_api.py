"""Lottery drops over HTTP: venue configuration, fans' entries, the public draw, progress."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from accounts.verification import require_verified
from catalog import managed_drop, visible_drop
from core.errors import NotFound
from gateway import lottery_pages
from gateway.auth import optional_user, require_user, require_user_id
from gateway.bodies import Id, StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.problems import Problem
from gateway.schemas import lottery as schemas
from lottery import browser_entries
from lottery import entries as lottery_entries
from lottery.browser_entries import EntryAttempt
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


class LotteryConfigBody(StrictBody):
    draw_at: datetime
    max_quantity_per_entry: Annotated[int, Field(ge=1, le=100)]
    public_randomness: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    allow_capture_now: bool = False


class EntryBody(StrictBody):
    tier_id: Id
    quantity: Annotated[int, Field(ge=1, le=100)]
    # Without one, the entry is confirmed in the browser (Stripe.js) with the client_secret.
    payment_method: Annotated[str, Field(min_length=3, max_length=255,
                                         pattern=r"^[A-Za-z0-9_]+$")] | None = None
    # The page is there to run 3-D Secure: a card asking for it waits instead of a 402.
    confirm_in_browser: bool = False


def _now(request: Request) -> datetime:
    moment: datetime = services_of(request).clock()
    return moment


def _payments(request: Request) -> HeldPayments:
    payments: HeldPayments | None = services_of(request).lottery_payments
    if payments is None:
        raise Problem(503, "payments are not configured (STRIPE_API_KEY); entries are closed",
                      headers={"Retry-After": "60"})
    return payments


@documented(body=LotteryConfigBody, response=schemas.LotterySettings, auth="venue_admin")
async def configure(request: Request) -> Response:
    """Set up a lottery drop: draw time, seats per entry, optional public randomness.

    Draws more than 6 days after the window opens are refused unless
    allow_capture_now is true, which charges on entry and refunds losers; the
    response's capture_mode and capture_note say which applies.
    """
    user = await require_user(request)
    drop_id: int = request.path_params["drop_id"]
    body = await read_json(request, LotteryConfigBody)
    wanted = LotterySettings(draw_at=body.draw_at, public_randomness=body.public_randomness,
                             max_quantity_per_entry=body.max_quantity_per_entry,
                             allow_capture_now=body.allow_capture_now)
    async with services_of(request).sessionmaker() as session:
        result = await configure_lottery(session, user, drop_id, wanted, now=_now(request))
        view = await managed_drop(session, user, drop_id)
    return JSONResponse({**lottery_json(result.lottery, view.drop),
                         "capture_note": result.capture_note})


@documented(response=schemas.LotterySettings)
async def get_lottery(request: Request) -> Response:
    """A lottery's public settings: window, draw time, commitment, entry count once sealed."""
    viewer = await optional_user(request)
    drop_id: int = request.path_params["drop_id"]
    async with services_of(request).sessionmaker() as session:
        view, lottery = await visible_lottery(session, viewer, drop_id)
    return JSONResponse({**lottery_json(lottery, view.drop),
                         "capture_note": CAPTURE_NOTES[lottery.capture_mode]})


@documented(response=schemas.LotteryProgress, auth="venue_admin")
async def progress(request: Request) -> Response:
    """Entries, outcomes and settlement progress, for the venue."""
    user = await require_user(request)
    drop_id: int = request.path_params["drop_id"]
    async with services_of(request).sessionmaker() as session:
        view = await managed_drop(session, user, drop_id)
        lottery = await lottery_for_view(session, view)
        counts = await settlement_progress(session, drop_id)
    return JSONResponse({**lottery_json(lottery, view.drop), "settlement": counts})


@documented(response=schemas.DrawDocument)
async def get_draw(request: Request) -> Response:
    """Everything needed to verify the draw: commitment, entry list and hash, seed, winners.

    Fields appear as the lottery advances: entries at close, seed and winners at the draw.
    """
    viewer = await optional_user(request)
    drop_id: int = request.path_params["drop_id"]
    async with services_of(request).sessionmaker() as session:
        view, lottery = await visible_lottery(session, viewer, drop_id)
        document = await draw_document(session, lottery, view.drop)
    return JSONResponse(document)


async def _check_verified_email(request: Request, drop_id: int, user_id: int) -> None:
    """A lottery drop with requires_verified_email takes verified accounts only (403)."""
    async with services_of(request).sessionmaker() as session:
        try:
            view = await visible_drop(session, None, drop_id)
        except NotFound:
            return  # enter_lottery gives its own 404, the same as for no drop at all
        if view.drop.requires_verified_email:
            await require_verified(session, user_id, wants="enter this lottery")


def _attempt_response(attempt: EntryAttempt, *, done: int = 201) -> Response:
    if attempt.entry.status != "confirming":
        return JSONResponse(entry_json(attempt.entry), status_code=done)
    return JSONResponse({**entry_json(attempt.entry), "payment_status": attempt.payment_status,
                         "client_secret": attempt.client_secret,
                         "payment_error": attempt.reason}, status_code=202)


@documented(body=EntryBody, response=schemas.Entry, auth="user", status=201, also=(202,))
async def enter(request: Request) -> Response:
    """Enter a lottery: holds price x quantity on the card; one entry per fan per drop.

    Without payment_method (or with confirm_in_browser) the answer may be 202
    'confirming' with the intent's client_secret: the browser confirms the card with
    Stripe.js (3-D Secure included) and polls GET .../entries/mine until 'entered'.
    """
    user_id = await require_user_id(request)
    drop_id: int = request.path_params["drop_id"]
    body = await read_json(request, EntryBody)
    await _check_verified_email(request, drop_id, user_id)
    if body.payment_method is None or body.confirm_in_browser:
        try:
            attempt = await browser_entries.enter_in_browser(
                services_of(request).sessionmaker, _payments(request), user_id=user_id,
                drop_id=drop_id, tier_id=body.tier_id, quantity=body.quantity,
                payment_method=body.payment_method, clock=services_of(request).clock)
        except PaymentDeclined as exc:
            raise Problem(402, exc.detail, title="Payment declined",
                          code="AuthorisationDeclined") from exc
        if body.payment_method is not None and attempt.payment_status == "requires_payment_method":
            # The card the server confirmed was declined; the entry waits for another one.
            raise Problem(402, f"your card was declined ({attempt.reason or 'no reason given'}); "
                          "nothing is held and you can try another card",
                          title="Payment declined", code="AuthorisationDeclined")
        return _attempt_response(attempt)
    try:
        entry = await lottery_entries.enter_lottery(
            services_of(request).sessionmaker, _payments(request), user_id=user_id,
            drop_id=drop_id, tier_id=body.tier_id, quantity=body.quantity,
            payment_method=body.payment_method, clock=services_of(request).clock)
    except PaymentDeclined as exc:
        raise Problem(402, exc.detail, title="Payment declined", code="AuthorisationDeclined") \
            from exc
    return JSONResponse(entry_json(entry), status_code=201)


@documented(response=schemas.Entry, auth="user", also=(202,))
async def my_entry(request: Request) -> Response:
    """Your entry in this lottery, brought up to date from Stripe (the page's poll).

    202 'confirming' while the browser confirms the card, 200 once it is an entry; the
    first poll that sees the authorisation makes it 'entered' (once).
    """
    user_id = await require_user_id(request)
    drop_id: int = request.path_params["drop_id"]
    try:
        attempt = await browser_entries.my_attempt(
            services_of(request).sessionmaker, lambda: _payments(request), user_id=user_id,
            drop_id=drop_id, clock=services_of(request).clock)
    except PaymentDeclined as exc:
        raise Problem(402, exc.detail, title="Payment declined", code="AuthorisationDeclined") \
            from exc
    return _attempt_response(attempt, done=200)


@documented(response=schemas.EntryList, auth="user")
async def list_my_entries(request: Request) -> Response:
    """Your lottery entries: entered, won or lost, and what happened to the money."""
    user_id = await require_user_id(request)
    async with services_of(request).sessionmaker() as session:
        entries = await lottery_entries.my_entries(session, user_id)
    return JSONResponse({"entries": [entry_json(entry) for entry in entries]})


routes: list[BaseRoute] = [
    Route("/api/drops/{drop_id:id}/lottery", configure, methods=["PUT"], name="configure_lottery"),
    Route("/api/drops/{drop_id:id}/lottery", get_lottery, methods=["GET"], name="get_lottery"),
    Route("/api/drops/{drop_id:id}/lottery/progress", progress, methods=["GET"],
          name="lottery_progress"),
    Route("/api/drops/{drop_id:id}/draw", get_draw, methods=["GET"], name="lottery_draw"),
    Route("/api/drops/{drop_id:id}/entries", enter, methods=["POST"], name="enter_lottery"),
    Route("/api/drops/{drop_id:id}/entries/mine", my_entry, methods=["GET"],
          name="my_lottery_entry"),
    Route("/api/me/entries", list_my_entries, methods=["GET"], name="my_lottery_entries"),
    *lottery_pages.routes,
]

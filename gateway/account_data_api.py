"""The account page and the account's own data: export it, delete the account, change the
password at `/api/me/password` (the same handler as `/api/auth/password`: one owner).

bootstrap/account_data.py has the rules; docs/accounts.md, "Your data" and "Deleting an
account".
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from accounts import profile, sessions, totp
from accounts import users as accounts
from bootstrap import account_data
from core.errors import Forbidden, NotAuthenticated
from gateway.accounts_api import change_password
from gateway.auth import SESSION_COOKIE, client_of, optional_user, require_user
from gateway.bodies import StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.problems import Problem
from gateway.schemas import account_data as schemas
from gateway.templating import templates


class DeleteAccountBody(StrictBody):
    password: Annotated[str, Field(min_length=1, max_length=200)]
    # Paid tickets for events still to come: refunded in full, or kept valid for the door.
    future_tickets: account_data.FutureTickets = "refund"


@documented(response=schemas.AccountExport, auth="user")
async def export(request: Request) -> Response:
    """Everything TicketQ holds about the signed-in account, as one JSON document."""
    user = await require_user(request)
    services = services_of(request)
    async with services.sessionmaker() as session:
        data = await account_data.export_account(session, user.id, now=services.clock())
    return JSONResponse(data, headers={
        "Content-Disposition": 'attachment; filename="ticketq-my-data.json"',
        "Cache-Control": "no-store"})


@documented(body=DeleteAccountBody, response=schemas.AccountDeleted, auth="user", status=202)
async def delete_account(request: Request) -> Response:
    """Delete the signed-in account: personal fields removed, every session signed out;
    orders and tickets stay in the ledger, anonymised. 403 for a wrong password, 409 for
    a platform admin or a venue's last admin (hand over first); nothing changes then."""
    user = await require_user(request)
    body = await read_json(request, DeleteAccountBody)
    services = services_of(request)
    now = services.clock()
    throttle = accounts.Throttle(services.scripts, services.settings, client_of(request))
    async with services.sessionmaker() as session:
        try:
            await accounts.authenticate(session, email=user.email, password=body.password,
                                        throttle=throttle, now=now)
        except NotAuthenticated as exc:
            raise Forbidden("the password is wrong; the account is unchanged") from exc
        await session.rollback()  # end authenticate's read before the locking transaction
        async with session.begin():
            deletion = await account_data.anonymise(
                session, user.id, future_tickets=body.future_tickets, now=now)
        await sessions.revoke_all(session, services.redis, user_id=user.id, now=now,
                                  ttl_s=services.settings.token_ttl_seconds)
    await account_data.carry_out_refunds(services.purchase, deletion, now=now)
    response = JSONResponse({"deleted": True, "refunded_orders": deletion.refunded_orders,
                             "kept_orders": deletion.kept_orders}, status_code=202)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def account_page(request: Request) -> Response:
    """Name, email, password, two-factor state, connected accounts, sessions, your data:
    for the signed-in account only."""
    try:
        user = await optional_user(request)
    except Problem:
        user = None  # a signed-out or expired cookie: sign in again
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    async with services_of(request).sessionmaker() as session:
        identities = await profile.linked_identities(session, user.id)
        two_factor = await totp.is_enrolled(session, user.id)
    return templates.TemplateResponse(request, "account.html", {
        "user": user, "identities": identities, "two_factor": two_factor})


routes: list[BaseRoute] = [
    Route("/api/me/export", export, methods=["GET"]),
    Route("/api/me", delete_account, methods=["DELETE"]),
    # The same handler under the path (its own name: operation ids are unique).
    Route("/api/me/password", change_password, methods=["POST"], name="change_my_password"),
    Route("/account", account_page, methods=["GET"], include_in_schema=False),
]

__all__ = ["routes"]

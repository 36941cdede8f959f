"""The account page's changes: the name, the email (the new address proves itself first),
and unlinking a "Sign in with ..." provider. accounts/profile.py and
accounts/email_change.py hold the rules; docs/accounts.md, "Changing the name",
"Changing the email" and "Connected accounts".
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

import mail.causes
from accounts import email_change, profile
from accounts import users as accounts
from core.clock import to_ms
from core.errors import Forbidden, Invalid, NotAuthenticated, NotFound
from gateway.auth import client_of, require_user
from gateway.bodies import StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.schemas import account as schemas
from gateway.schemas import accounts as account_schemas
from gateway.templating import templates

PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
# One answer to every email change that passes the password and the rate limit.
CHANGE_REQUESTED = ("we sent a link to the new address; your email changes once it is "
                    "confirmed there. Your current address was told of the request.")


class RenameBody(StrictBody):
    name: Annotated[str, Field(min_length=1, max_length=200)]


class EmailChangeBody(StrictBody):
    new_email: Annotated[
        str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class ConfirmBody(StrictBody):
    token: Annotated[str, Field(min_length=1, max_length=400)]


@documented(body=RenameBody, response=account_schemas.User, auth="user")
async def rename(request: Request) -> Response:
    """Change the signed-in account's name (1-200 characters, spaces trimmed)."""
    user = await require_user(request)
    body = await read_json(request, RenameBody)
    name = " ".join(body.name.split())  # no leading, trailing or runs of white space
    if not name:
        raise Invalid("the name cannot be blank")
    async with services_of(request).sessionmaker() as session:
        renamed = await profile.rename(session, user.id, name)
    return JSONResponse({"id": renamed.id, "email": renamed.email, "name": renamed.name,
                         "role": renamed.role,
                         "email_verified": renamed.email_verified_at is not None})


@documented(body=EmailChangeBody, response=schemas.EmailChangeRequested, auth="user",
            status=202)
async def request_email_change(request: Request) -> Response:
    """Ask to change the account's email: a link goes to the new address, a notice to the
    current one; the email changes only when the link is confirmed. The same 202 whether
    or not the new address is free. 403 for a wrong password; 429 past the hourly limit."""
    user = await require_user(request)
    body = await read_json(request, EmailChangeBody)
    services = services_of(request)
    now = services.clock()
    if accounts.normalise_email(body.new_email) == accounts.normalise_email(user.email):
        raise Invalid("that is already the account's email", reason="same_email")
    throttle = accounts.Throttle(services.scripts, services.settings, client_of(request))
    async with services.sessionmaker() as session:
        if not await profile.has_password_for(session, user.id):
            raise profile.NoPassword(
                "this account has no password yet; set one first (use \"Forgot your "
                "password?\" on the sign-in page), then change the email",
                reason="no_password")
        try:
            await accounts.authenticate(session, email=user.email, password=body.password,
                                        throttle=throttle, now=now)
        except NotAuthenticated as exc:
            raise Forbidden("the password is wrong; the email is unchanged") from exc
        await session.rollback()
        await email_change.check_allowed(services.scripts, services.settings, user.id,
                                         now_ms=to_ms(now))
        asked = await email_change.request_change(
            session, services.redis, user_id=user.id, new_email=body.new_email,
            settings=services.settings)
        if asked is not None:
            # The old address hears of every request, taken address or not (one answer).
            await mail.causes.email_change_notice(
                session, asked.user, new_address=asked.new_email, confirm_url=asked.confirm_url)
            if not asked.address_taken:
                await mail.causes.email_change_link(
                    session, asked.user, new_address=asked.new_email,
                    confirm_url=asked.confirm_url)
            await session.commit()
    return JSONResponse({"detail": CHANGE_REQUESTED}, status_code=202)


@documented(body=ConfirmBody, response=schemas.EmailChanged)
async def confirm_email_change(request: Request) -> Response:
    """Confirm a new email address with the token from the mailed link (no sign-in
    needed: the token is the proof). 401 forged, 410 expired, 403 not the latest request
    or the email changed since, 409 the address became another account's."""
    body = await read_json(request, ConfirmBody)
    services = services_of(request)
    async with services.sessionmaker() as session:
        user = await email_change.confirm_change(
            session, services.redis, token=body.token, settings=services.settings,
            now=services.clock())
    return JSONResponse({"email_changed": True, "email": user.email, "email_verified": True})


@documented(response=schemas.IdentityUnlinked, auth="user")
async def unlink_identity(request: Request) -> Response:
    """Unlink the account's identity at a provider. 404 if none is linked; 409 if it is
    the only way to sign in (set a password first, by password reset)."""
    user = await require_user(request)
    provider = request.path_params["provider"]
    if not PROVIDER_NAME.fullmatch(provider):
        raise NotFound("this account has no linked account at that provider")
    async with services_of(request).sessionmaker() as session:
        await profile.unlink(session, user.id, provider)
    return JSONResponse({"unlinked": provider})


async def confirm_page(request: Request) -> Response:
    """The mailed link's page: a button that confirms (nothing changes on load)."""
    return templates.TemplateResponse(request, "confirm_email.html", {})


routes: list[BaseRoute] = [
    Route("/api/me", rename, methods=["PATCH"]),
    Route("/api/me/email", request_email_change, methods=["POST"]),
    Route("/api/auth/email-change/confirm", confirm_email_change, methods=["POST"]),
    Route("/api/me/oidc/{provider}", unlink_identity, methods=["DELETE"]),
    Route("/confirm-email", confirm_page, methods=["GET"], include_in_schema=False),
]

__all__ = ["routes"]

"""Password reset over HTTP: ask for a link, the page the link opens, set the new password.

`POST /api/auth/password-reset` answers 202 whatever the email (no account enumeration);
the link is `/reset?token=...` (the issue's contract). A query string does reach the
server, so the gateway's log filter blanks `token` values (gateway.log_redaction), the
page sends no Referer (its `<meta name="referrer" content="no-referrer">`; the site-wide
policy already sends other sites only the origin), its script moves the token out of
the address bar at once, and the page itself changes nothing: only its form's POST does.
accounts/password_reset.py has the rules; docs/accounts.md "Password reset".
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

import mail.causes
from accounts import password_reset, sessions
from accounts.verification import link_base
from core.clock import to_ms
from core.models import User
from gateway.auth import SESSION_COOKIE, client_of
from gateway.bodies import StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.schemas import account_data as schemas
from gateway.templating import templates

# The one answer to every request that is not rate-limited, known email or not.
REQUESTED = ("if this email has an account, a link to reset its password is on its way; "
             "it works once, within 30 minutes")


class ResetRequestBody(StrictBody):
    email: Annotated[str, Field(min_length=3, max_length=320)]


class ResetConfirmBody(StrictBody):
    token: Annotated[str, Field(min_length=1, max_length=300)]
    password: Annotated[str, Field(min_length=8, max_length=200)]


def _tokens(request: Request) -> password_reset.ResetTokens:
    return password_reset.ResetTokens.from_settings(services_of(request).settings)


@documented(body=ResetRequestBody, response=schemas.ResetRequested, status=202)
async def request_reset(request: Request) -> Response:
    """Mail a password reset link to the address, if it has an account. The answer is the
    same either way; 429 past the per-client or per-address hourly limit."""
    body = await read_json(request, ResetRequestBody)
    services = services_of(request)
    await password_reset.check_request_allowed(
        services.scripts, services.settings, client_of(request), body.email,
        now_ms=to_ms(services.clock()))
    base = link_base(services.settings)
    ttl_minutes = services.settings.password_reset_ttl_seconds // 60

    async def send(session: AsyncSession, user: User, token: str) -> None:
        await mail.causes.password_reset(session, user, password_reset.reset_url(base, token),
                                         ttl_minutes=ttl_minutes)

    async with services.sessionmaker() as session:
        await password_reset.request_reset(session, email=body.email, tokens=_tokens(request),
                                           send=send)
    return JSONResponse({"detail": REQUESTED}, status_code=202)


@documented(body=ResetConfirmBody, response=schemas.PasswordReset)
async def confirm_reset(request: Request) -> Response:
    """Set a new password with the mailed link's token; signs out every session and token
    of the account. 400 for a used, superseded or forged link, 410 for an expired one;
    either way the password is unchanged."""
    body = await read_json(request, ResetConfirmBody)
    services = services_of(request)
    now = services.clock()
    async with services.sessionmaker() as session:
        user = await password_reset.confirm_reset(session, token=body.token,
                                                  new_password=body.password,
                                                  tokens=_tokens(request), now=now)
        await sessions.revoke_all(session, services.redis, user_id=user.id, now=now,
                                  ttl_s=services.settings.token_ttl_seconds)
    response = JSONResponse({"password_reset": True, "signed_out_everywhere": True,
                             "email": user.email})
    response.delete_cookie(SESSION_COOKIE)
    return response


async def reset_page(request: Request) -> Response:
    """The mailed link's page: a new-password form (nothing changes on load)."""
    return templates.TemplateResponse(request, "reset_password.html", {})


routes: list[BaseRoute] = [
    Route("/api/auth/password-reset", request_reset, methods=["POST"]),
    Route("/api/auth/password-reset/confirm", confirm_reset, methods=["POST"]),
    Route("/reset", reset_page, methods=["GET"], include_in_schema=False),
]

__all__ = ["routes"]

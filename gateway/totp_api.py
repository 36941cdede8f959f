"""Two-factor authentication over HTTP: enrol, confirm, turn off, sign in with a code, a
venue's requirement, and the fresh-second-factor guard of sensitive actions.

Turning 2FA off is `POST /api/me/totp/disable {code}` rather than `DELETE /api/me/totp`
with a body: RFC 9110 gives a DELETE body no meaning, and some proxies drop it.
docs/accounts.md, "Two-factor authentication", has the whole flow.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accounts import second_factor, totp
from catalog import venues
from core.errors import Conflict, NotAuthenticated
from core.models import User
from gateway.accounts_api import signed_in
from gateway.auth import live_credential, require_user
from gateway.bodies import StrictBody, read_json
from gateway.context import services_of
from gateway.openapi import documented
from gateway.schemas import accounts as schemas
from gateway.schemas import catalog as catalog_schemas

TOTP_HEADER = "x-totp-code"
# A 6-digit code, or a recovery code as shown (xxxxx-xxxxx), with room for spaces.
Code = Annotated[str, Field(min_length=6, max_length=20)]


class CodeBody(StrictBody):
    code: Code


class ChallengeBody(StrictBody):
    challenge: Annotated[str, Field(min_length=1, max_length=200)]
    code: Code


class VenueSecurityBody(StrictBody):
    require_totp: bool


def _checker(request: Request) -> second_factor.Checker:
    services = services_of(request)
    return second_factor.Checker(services.scripts, services.redis, services.settings)


@documented(response=schemas.TotpStatus, auth="user")
async def totp_status(request: Request) -> Response:
    """Whether two-factor authentication is on (or pending), and recovery codes left."""
    user = await require_user(request)
    async with services_of(request).sessionmaker() as session:
        row = await totp.credential(session, user.id)
        left = await totp.remaining_recovery_codes(session, user.id)
    enabled = row is not None and row.confirmed_at is not None
    return JSONResponse({"enabled": enabled, "pending": row is not None and not enabled,
                         "recovery_codes_left": left if enabled else 0})


@documented(response=schemas.TotpEnrolment, auth="user")
async def begin_enrolment(request: Request) -> Response:
    """Start enrolling: a new secret for an authenticator app (pending until confirmed).

    409 if 2FA is already on. Calling it again replaces a pending secret."""
    user = await require_user(request)
    services = services_of(request)
    async with services.sessionmaker() as session:
        secret, uri = await totp.begin_enrolment(session, user_id=user.id, email=user.email,
                                                 now=services.clock(),
                                                 secret_keys=services.settings.secret_keys)
    return JSONResponse({"secret": secret, "otpauth_uri": uri},
                        headers={"Cache-Control": "no-store"})


@documented(body=CodeBody, response=schemas.RecoveryCodes, auth="user")
async def confirm_enrolment(request: Request) -> Response:
    """Turn 2FA on with a code from the app; answers ten single-use recovery codes, once.

    A wrong code is a 422 and changes nothing (the secret stays pending)."""
    user = await require_user(request)
    body = await read_json(request, CodeBody)
    services = services_of(request)
    now = services.clock()
    async with services.sessionmaker() as session:
        codes = await second_factor.confirm_enrolment(session, _checker(request),
                                                      user_id=user.id, code=body.code, now=now)
        credential = await live_credential(request)
        if credential is not None:  # this session has just proved the factor
            await second_factor.mark_fresh(session, user_id=user.id,
                                           session_id=credential.session_id, now=now)
    return JSONResponse({"recovery_codes": codes}, headers={"Cache-Control": "no-store"})


@documented(body=CodeBody, response=schemas.TotpStatus, auth="user")
async def disable(request: Request) -> Response:
    """Turn 2FA off, proven by a current code or a recovery code (422 if wrong)."""
    user = await require_user(request)
    body = await read_json(request, CodeBody)
    services = services_of(request)
    async with services.sessionmaker() as session:
        if not await totp.is_enrolled(session, user.id):
            raise Conflict("two-factor authentication is already off")
        if not await second_factor.check_code(session, _checker(request), user_id=user.id,
                                              code=body.code, now=services.clock()):
            raise second_factor.WrongCode(second_factor.WRONG_CODE)
        await totp.disable(session, user_id=user.id)
    return JSONResponse({"enabled": False, "pending": False, "recovery_codes_left": 0})


@documented(body=ChallengeBody, response=schemas.LoginResult)
async def login_with_code(request: Request) -> Response:
    """Sign in, second step: the challenge from POST /api/auth/login and a code (or a
    recovery code). A forged, expired or used challenge or a wrong code is refused
    (401/410); 429 with Retry-After after too many wrong codes."""
    body = await read_json(request, ChallengeBody)
    services = services_of(request)
    now = services.clock()
    async with services.sessionmaker() as session:
        user_id = await second_factor.answer_challenge(session, _checker(request),
                                                       challenge=body.challenge, code=body.code,
                                                       now=now)
        user = await session.get(User, user_id)
        if user is None:
            raise NotAuthenticated("this account no longer exists")
        return await signed_in(request, session, user, now=now, second_factor_proven=True)


@documented(body=VenueSecurityBody, response=catalog_schemas.VenueSecurity, auth="venue_admin")
async def venue_security(request: Request) -> Response:
    """Require (or not) two-factor authentication of the venue's admins and scanners.

    A venue admin must have 2FA on to turn it on (409 otherwise: it would lock them out)."""
    user = await require_user(request)
    body = await read_json(request, VenueSecurityBody)
    venue_id: int = request.path_params["venue_id"]
    async with services_of(request).sessionmaker() as session:
        venue = await venues.set_require_totp(session, user, venue_id=venue_id,
                                              require_totp=body.require_totp)
    return JSONResponse({"venue_id": venue.id, "require_totp": venue.require_totp})


async def require_fresh_second_factor(request: Request) -> None:
    """For sensitive actions: an account with 2FA proves it within TICKETQ_TOTP_FRESH_S on
    this session, or sends a code in the X-TOTP-Code header (403 otherwise)."""
    credential = await live_credential(request)
    if credential is None:
        return  # the handler's own require_user answers 401
    services = services_of(request)
    async with services.sessionmaker() as session:
        await second_factor.require_fresh(session, _checker(request),
                                          user_id=credential.user_id,
                                          session_id=credential.session_id,
                                          code=request.headers.get(TOTP_HEADER),
                                          now=services.clock())


routes = [
    Route("/api/me/totp", totp_status, methods=["GET"]),
    Route("/api/me/totp", begin_enrolment, methods=["POST"]),
    Route("/api/me/totp/confirm", confirm_enrolment, methods=["POST"]),
    Route("/api/me/totp/disable", disable, methods=["POST"]),
    Route("/api/auth/login/totp", login_with_code, methods=["POST"]),
    Route("/api/venues/{venue_id:id}/security", venue_security, methods=["PUT"]),
]

__all__ = ["TOTP_HEADER", "require_fresh_second_factor", "routes"]

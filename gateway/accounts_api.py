"""Sign-up, sign-in (bearer token + session cookie), sign-out, password change, who am I."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accounts import limits, second_factor, sessions, totp
from accounts import users as accounts
from accounts.tokens import SESSION_SALT
from core.clock import to_ms
from core.errors import Conflict
from core.models import User
from core.settings import Settings
from gateway.auth import (
    SESSION_COOKIE,
    CurrentUser,
    client_of,
    live_credential,
    require_user,
    signed_credential,
    signer,
)
from gateway.bodies import StrictBody, read_json
from gateway.context import services_of
from gateway.csrf import set_csrf_cookie
from gateway.openapi import documented
from gateway.problems import Problem
from gateway.schemas import accounts as schemas
from gateway.serialize import user_json
from gateway.verify_email_api import enqueue_verification

# The one answer to every well-formed sign-up, new email or not (docs/security.md).
SIGNED_UP = ("if this email had no account, it has one now: sign in with it; an email "
             "that already had one keeps it unchanged")


class SignUpBody(StrictBody):
    email: Annotated[
        str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]
    password: Annotated[str, Field(min_length=8, max_length=200)]
    name: Annotated[str, Field(min_length=1, max_length=200)]


class LoginBody(StrictBody):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class PasswordBody(StrictBody):
    current_password: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Annotated[str, Field(min_length=8, max_length=200)]


def _throttle(request: Request) -> accounts.Throttle:
    services = services_of(request)
    return accounts.Throttle(services.scripts, services.settings, client_of(request))


@documented(body=SignUpBody, response=schemas.SignedUp, status=202)
async def signup(request: Request) -> Response:
    """Create a fan account. The answer is the same whether or not the email already had
    one (no account enumeration); sign in to get its id."""
    body = await read_json(request, SignUpBody)
    services = services_of(request)
    await limits.check_signup_allowed(services.scripts, services.settings, client_of(request),
                                      now_ms=to_ms(services.clock()))
    async with services.sessionmaker() as session:
        try:
            await accounts.sign_up(
                session, email=body.email, password=body.password, name=body.name,
                on_created=enqueue_verification(services.settings),
            )
        except Conflict:
            # The same answer, and no mail: the existing account is untouched, and its
            # owner is not mailed about strangers' attempts (docs/security.md).
            pass
    return JSONResponse(
        {"email": accounts.normalise_email(body.email), "name": body.name, "role": "fan",
         "detail": SIGNED_UP}, status_code=202,
    )


def set_session_cookie(request: Request, response: Response, user_id: int,
                        session_id: int) -> None:
    settings = services_of(request).settings
    response.set_cookie(
        SESSION_COOKIE,
        signer(request).issue(user_id, session_id, kind=SESSION_SALT),
        max_age=settings.token_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
    )
    # A fresh CSRF token with every sign-in (gateway/csrf.py).
    set_csrf_cookie(
        response, secure=settings.session_cookie_secure, max_age_s=settings.token_ttl_seconds
    )


@documented(body=LoginBody, response=schemas.LoginAnswer)
async def login(request: Request) -> Response:
    """Sign in: returns a bearer token and sets a session cookie, both of one new session.

    For an account with two-factor authentication the answer is `{totp_required, challenge}`
    instead, with no token: answer it at POST /api/auth/login/totp (gateway/totp_api.py).
    429 with Retry-After after too many attempts from one address or too many wrong
    passwords for one account."""
    body = await read_json(request, LoginBody)
    services = services_of(request)
    now = services.clock()
    async with services.sessionmaker() as session:
        user = await accounts.authenticate(session, email=body.email, password=body.password,
                                           throttle=_throttle(request), now=now)
        if await totp.is_enrolled(session, user.id):
            return totp_challenge(services.settings, user.id)
        return await signed_in(request, session, user, now=now)


def totp_challenge(settings: Settings, user_id: int) -> Response:
    return JSONResponse({"totp_required": True,
                         "challenge": second_factor.issue_challenge(settings, user_id),
                         "expires_in": settings.totp_challenge_ttl_s})


async def signed_in(request: Request, session: AsyncSession, user: User, *, now: datetime,
                    second_factor_proven: bool = False) -> Response:
    """A new session for `user`: the bearer token in the body, the cookie set."""
    services = services_of(request)
    opened = await sessions.open_session(
        session, user_id=user.id, user_agent=request.headers.get("user-agent", ""), now=now
    )
    if second_factor_proven:
        await second_factor.mark_fresh(session, user_id=user.id, session_id=opened.id, now=now)
    token = signer(request).issue(user.id, opened.id)
    response = JSONResponse({"token": token, "user": user_json(user),
                             "expires_in": services.settings.token_ttl_seconds,
                             "session_id": opened.id})
    set_session_cookie(request, response, user.id, opened.id)
    return response


@documented(response=schemas.SignedOut)
async def logout(request: Request) -> Response:
    """Sign out: revokes the bearer token or session cookie the request carries."""
    try:
        credential = signed_credential(request)
    except Problem:
        credential = None  # a forged or expired credential has nothing left to revoke
    if credential is not None:
        services = services_of(request)
        async with services.sessionmaker() as session:
            await sessions.revoke(session, services.redis, user_id=credential.user_id,
                                  session_id=credential.session_id, now=services.clock(),
                                  ttl_s=services.settings.token_ttl_seconds)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE)
    return response


async def _signed_in(request: Request) -> tuple[CurrentUser, int]:
    user = await require_user(request)
    credential = await live_credential(request)
    assert credential is not None  # require_user has just proved one
    return user, credential.session_id


@documented(response=schemas.SignedOut, auth="user")
async def logout_all(request: Request) -> Response:
    """Sign out everywhere: revokes every token and cookie of the account, this one too."""
    user, _ = await _signed_in(request)
    services = services_of(request)
    async with services.sessionmaker() as session:
        await sessions.revoke_all(session, services.redis, user_id=user.id, now=services.clock(),
                                  ttl_s=services.settings.token_ttl_seconds)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE)
    return response


@documented(body=PasswordBody, response=schemas.PasswordChanged, auth="user")
async def change_password(request: Request) -> Response:
    """Change the password (403 if the current one is wrong); signs out every other session."""
    user, session_id = await _signed_in(request)
    body = await read_json(request, PasswordBody)
    services = services_of(request)
    now = services.clock()
    async with services.sessionmaker() as session:
        await accounts.change_password(session, user_id=user.id,
                                       current_password=body.current_password,
                                       new_password=body.new_password,
                                       throttle=_throttle(request), now=now)
        await sessions.revoke_all(session, services.redis, user_id=user.id, now=now,
                                  ttl_s=services.settings.token_ttl_seconds, keep=session_id)
    return JSONResponse({"password_changed": True, "other_sessions_signed_out": True})


@documented(response=schemas.SessionList, auth="user")
async def my_sessions(request: Request) -> Response:
    """The account's signed-in sessions (newest first); `current` marks this one."""
    user, current = await _signed_in(request)
    async with services_of(request).sessionmaker() as session:
        rows = await sessions.live_sessions(session, user_id=user.id)
    return JSONResponse({"sessions": [
        {"id": row.id, "created_at": row.created_at.isoformat(), "user_agent": row.user_agent,
         "current": row.id == current} for row in rows]})


@documented(response=schemas.SignedOut, auth="user")
async def end_session(request: Request) -> Response:
    """Sign one of the account's sessions out (404 if it is not one of them)."""
    user, _ = await _signed_in(request)
    services = services_of(request)
    async with services.sessionmaker() as session:
        await sessions.revoke_own(session, services.redis, user_id=user.id,
                                  session_id=request.path_params["session_id"],
                                  now=services.clock(), ttl_s=services.settings.token_ttl_seconds)
    return JSONResponse({"signed_out": True})


@documented(response=schemas.User, auth="user")
async def me(request: Request) -> Response:
    """The signed-in account."""
    user = await require_user(request)
    return JSONResponse({"id": user.id, "email": user.email, "name": user.name, "role": user.role,
                         "email_verified": user.email_verified})


routes = [
    Route("/api/auth/signup", signup, methods=["POST"]),
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
    Route("/api/auth/logout-all", logout_all, methods=["POST"]),
    Route("/api/auth/password", change_password, methods=["POST"]),
    Route("/api/me", me, methods=["GET"]),
    Route("/api/me/sessions", my_sessions, methods=["GET"]),
    Route("/api/me/sessions/{session_id:id}", end_session, methods=["DELETE"]),
]

__all__ = ["routes"]

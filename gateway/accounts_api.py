"""Sign-up, sign-in (bearer token + session cookie), sign-out, and who am I."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accounts import users as accounts
from accounts.tokens import SESSION_SALT
from gateway.auth import SESSION_COOKIE, require_user, signer
from gateway.bodies import StrictBody, read_json
from gateway.context import services_of
from gateway.csrf import set_csrf_cookie
from gateway.openapi import documented
from gateway.schemas import accounts as schemas
from gateway.serialize import user_json


class SignUpBody(StrictBody):
    email: Annotated[
        str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]
    password: Annotated[str, Field(min_length=8, max_length=200)]
    name: Annotated[str, Field(min_length=1, max_length=200)]


class LoginBody(StrictBody):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


@documented(body=SignUpBody, response=schemas.User, status=201)
async def signup(request: Request) -> Response:
    """Create a fan account."""
    body = await read_json(request, SignUpBody)
    async with services_of(request).sessionmaker() as session:
        user = await accounts.sign_up(
            session, email=body.email, password=body.password, name=body.name
        )
    return JSONResponse(user_json(user), status_code=201)


@documented(body=LoginBody, response=schemas.LoginResult)
async def login(request: Request) -> Response:
    """Sign in: returns a bearer token and sets a session cookie."""
    body = await read_json(request, LoginBody)
    async with services_of(request).sessionmaker() as session:
        user = await accounts.authenticate(session, email=body.email, password=body.password)
    settings = services_of(request).settings
    token = signer(request).issue(user.id)
    response = JSONResponse(
        {"token": token, "user": user_json(user), "expires_in": settings.token_ttl_seconds}
    )
    response.set_cookie(
        SESSION_COOKIE,
        signer(request).issue(user.id, kind=SESSION_SALT),
        max_age=settings.token_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.session_cookie_secure,
    )
    set_csrf_cookie(
        response, secure=settings.session_cookie_secure, max_age_s=settings.token_ttl_seconds
    )
    return response


@documented(response=schemas.SignedOut)
async def logout(request: Request) -> Response:
    """Sign out of the browser session."""
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE)
    return response


@documented(response=schemas.User, auth="user")
async def me(request: Request) -> Response:
    """The signed-in account."""
    user = await require_user(request)
    return JSONResponse({"id": user.id, "email": user.email, "name": user.name, "role": user.role})


routes = [
    Route("/api/auth/signup", signup, methods=["POST"]),
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
    Route("/api/me", me, methods=["GET"]),
]

__all__ = ["routes"]

"""Who is calling: a bearer token (API clients, load tests) or a session cookie (browsers)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from accounts.tokens import SESSION_SALT, TokenSigner
from core.models import User
from core.signed_fields import CredentialExpired, CredentialInvalid
from gateway.context import services_of
from gateway.problems import Problem

SESSION_COOKIE = "tq_session"


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    name: str
    role: str


def signer(conn: HTTPConnection) -> TokenSigner:
    settings = services_of(conn).settings
    return TokenSigner(settings.secret_key, settings.token_ttl_seconds)


def _credential_user_id(conn: HTTPConnection) -> int | None:
    """The user id the request's credentials prove, or None when it sent none.

    Forged or expired credentials are a 401 rather than "anonymous": a client
    that thinks it is signed in must learn that it is not.
    """
    authorization = conn.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "use 'Authorization: Bearer <token>' from POST /api/auth/login")
        try:
            return signer(conn).user_id(token.strip())
        except (CredentialInvalid, CredentialExpired) as exc:
            raise Problem(401, f"the bearer token is {exc.reason}; sign in again") from exc
    cookie = conn.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            return signer(conn).user_id(cookie, kind=SESSION_SALT)
        except (CredentialInvalid, CredentialExpired) as exc:
            raise Problem(401, f"the session cookie is {exc.reason}; sign in again") from exc
    return None


def require_user_id(conn: HTTPConnection) -> int:
    """The caller's user id from its signed credential, without a database read (hot paths)."""
    user_id = _credential_user_id(conn)
    if user_id is None:
        raise Problem(401, "sign in first (POST /api/auth/login)")
    return user_id


async def optional_user(conn: HTTPConnection) -> CurrentUser | None:
    user_id = _credential_user_id(conn)
    if user_id is None:
        return None
    async with services_of(conn).sessionmaker() as session:
        user = await session.get(User, user_id)
    if user is None:
        raise Problem(401, "this account no longer exists; sign in again")
    return CurrentUser(id=user.id, email=user.email, name=user.name, role=user.role)


async def require_user(conn: HTTPConnection) -> CurrentUser:
    user = await optional_user(conn)
    if user is None:
        raise Problem(401, "sign in first (POST /api/auth/login)")
    return user

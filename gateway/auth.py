"""Who is calling: a bearer token (API clients, load tests) or a session cookie (browsers).

A credential proves (user id, session id) by its signature; one Redis read then says
whether that session was signed out (accounts.sessions). No database read: the queue
join calls `require_user_id` for every fan of a drop.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from accounts import sessions
from accounts.limits import Client
from accounts.tokens import API_TOKEN_SALT, SESSION_SALT, TokenSigner
from core.models import User
from core.script_batching import ScriptBatcher
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
    email_verified: bool = False


@dataclass(frozen=True)
class Credential:
    user_id: int
    session_id: int
    noun: str  # "bearer token" or "session cookie", for the refusal a client reads


def signer(conn: HTTPConnection) -> TokenSigner:
    settings = services_of(conn).settings
    return TokenSigner(settings.secret_key, settings.token_ttl_seconds)


def client_of(conn: HTTPConnection) -> Client:
    """The caller's address as the ASGI server saw it. uvicorn replaces it with the
    X-Forwarded-For address only with --proxy-headers and a trusted --forwarded-allow-ips;
    the header itself is never read here (docs/security.md)."""
    return Client(conn.client.host if conn.client else None)


def signed_credential(conn: HTTPConnection, *, bearer_token: str | None = None
                      ) -> Credential | None:
    """What the request's credential's signature proves, or None when it sent none.

    Forged or expired credentials are a 401 rather than "anonymous": a client
    that thinks it is signed in must learn that it is not. `bearer_token` is one the
    caller found elsewhere than the header (a WebSocket subprotocol, gateway.socket_auth).
    """
    if bearer_token is not None:
        return _read(conn, bearer_token, API_TOKEN_SALT, "bearer token")
    authorization = conn.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "use 'Authorization: Bearer <token>' from POST /api/auth/login")
        return _read(conn, token.strip(), API_TOKEN_SALT, "bearer token")
    cookie = conn.cookies.get(SESSION_COOKIE)
    if cookie:
        return _read(conn, cookie, SESSION_SALT, "session cookie")
    return None


def _read(conn: HTTPConnection, token: str, kind: str, noun: str) -> Credential:
    try:
        user_id, session_id = signer(conn).read(token, kind=kind)
    except (CredentialInvalid, CredentialExpired) as exc:
        raise Problem(401, f"the {noun} is {exc.reason}; sign in again") from exc
    return Credential(user_id, session_id, noun)


async def live_credential(conn: HTTPConnection, *, bearer_token: str | None = None,
                          batcher: ScriptBatcher | None = None) -> Credential | None:
    """`signed_credential`, refused with 401 when its session has been signed out.
    `batcher`: the session read shares the herd's pipelines (hot paths)."""
    credential = signed_credential(conn, bearer_token=bearer_token)
    if credential is None:
        return None
    if not await sessions.is_live(services_of(conn).redis, credential.user_id,
                                  credential.session_id, batcher=batcher):
        raise Problem(401, f"the {credential.noun} was signed out; sign in again")
    return credential


async def require_user_id(conn: HTTPConnection, *, bearer_token: str | None = None,
                          batcher: ScriptBatcher | None = None) -> int:
    """The caller's user id from its credential: one Redis read, no database read (hot paths)."""
    credential = await live_credential(conn, bearer_token=bearer_token, batcher=batcher)
    if credential is None:
        raise Problem(401, "sign in first (POST /api/auth/login)")
    return credential.user_id


async def optional_user(conn: HTTPConnection) -> CurrentUser | None:
    credential = await live_credential(conn)
    if credential is None:
        return None
    async with services_of(conn).sessionmaker() as session:
        user = await session.get(User, credential.user_id)
    if user is None:
        raise Problem(401, "this account no longer exists; sign in again")
    return CurrentUser(id=user.id, email=user.email, name=user.name, role=user.role,
                       email_verified=user.email_verified)


async def require_user(conn: HTTPConnection) -> CurrentUser:
    user = await optional_user(conn)
    if user is None:
        raise Problem(401, "sign in first (POST /api/auth/login)")
    return user

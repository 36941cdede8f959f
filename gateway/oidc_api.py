"""Sign in with an OpenID Connect provider over HTTP: the start redirect and the callback.

`start` keeps a new attempt in Redis (accounts/oidc.py) and binds its state to this
browser with a short-lived signed cookie, so a callback carrying someone else's state (a
login-CSRF link) is refused. `callback` checks that cookie against the state, takes the
attempt (once), lets accounts/oidc.py exchange the code and verify the ID token, links
the identity (accounts/oidc_accounts.py), and signs in exactly as the password login
does: a session row, the session cookie, a fresh CSRF cookie, then a redirect to the
page the person came from. docs/accounts.md tells the whole flow.
"""

from __future__ import annotations

import hmac
import re

import httpx
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from accounts import limits, oidc, oidc_accounts, sessions
from core.clock import to_ms
from core.errors import NotFound
from core.settings import Settings
from core.signed_fields import SignedFields
from gateway.accounts_api import set_session_cookie
from gateway.auth import client_of
from gateway.context import services_of
from gateway.pages_api import safe_next
from gateway.problems import Problem

FLOW_COOKIE = "tq_oidc"
COOKIE_PATH = "/api/auth/oidc"  # sent only to the callback (and start), nowhere else
STATE = re.compile(r"[A-Za-z0-9_-]{20,100}")
MAX_CODE = 2000
PROVIDER_ERROR = re.compile(r"[a-z_]{1,60}")


def _flow_cookie(settings: Settings) -> SignedFields:
    return SignedFields(settings.secret_key, salt="oidc-flow", count=2,
                        max_age_s=oidc.FLOW_TTL_S, noun="sign-in attempt")


def _provider(request: Request) -> oidc.Provider:
    name = request.path_params["provider"]
    found = oidc.configured(services_of(request).settings).get(name)
    if found is None:
        raise NotFound("no sign-in provider by that name is configured here")
    return found


def redirect_uri(request: Request, provider: oidc.Provider) -> str:
    """Where the provider sends the person back: under TICKETQ_PUBLIC_URL when set."""
    base = services_of(request).settings.public_url or str(request.base_url)
    return f"{base.rstrip('/')}/api/auth/oidc/{provider.name}/callback"


def _http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=oidc.HTTP_TIMEOUT_S, follow_redirects=False)


async def start(request: Request) -> Response:
    """Start signing in with a provider: 302 to it, with state, nonce and PKCE (S256)."""
    provider = _provider(request)
    services = services_of(request)
    settings = services.settings
    async with _http() as http:
        flow, url = await oidc.begin(
            services.redis, http, provider, redirect_uri=redirect_uri(request, provider),
            next_path=safe_next(request.query_params.get("next")))
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(FLOW_COOKIE, _flow_cookie(settings).sign(provider.name, flow.state),
                        max_age=oidc.FLOW_TTL_S, path=COOKIE_PATH, httponly=True,
                        # lax: the provider's redirect back is a top-level GET navigation
                        samesite="lax", secure=settings.session_cookie_secure)
    return response


def _checked_query(request: Request) -> tuple[str, str]:
    query = request.query_params
    if "error" in query:
        error = query["error"]
        shown = error if PROVIDER_ERROR.fullmatch(error) else "error"
        raise oidc.OidcRefused(f"the provider did not sign you in ({shown})",
                               reason="provider_error")
    code, state = query.get("code", ""), query.get("state", "")
    if not code or len(code) > MAX_CODE or not STATE.fullmatch(state):
        raise Problem(400, "a sign-in callback needs the provider's code and state",
                      reason="callback_malformed")
    return code, state


def _check_state(request: Request, provider: oidc.Provider, state: str) -> None:
    """The state must be the one this browser's own attempt started (login CSRF)."""
    cookie = request.cookies.get(FLOW_COOKIE)
    if not cookie:
        raise oidc.OidcRefused("no sign-in was started in this browser, or it expired; "
                               "start again", reason="no_attempt")
    started_with, started_state = _flow_cookie(services_of(request).settings).read(cookie)
    if started_with != provider.name or not hmac.compare_digest(started_state, state):
        raise oidc.OidcRefused("the state does not match the sign-in this browser started; "
                               "start again", reason="state_mismatch")


async def callback(request: Request) -> Response:
    """The provider's redirect back: verify, sign in (session cookie), 303 to the site."""
    provider = _provider(request)
    code, state = _checked_query(request)
    _check_state(request, provider, state)
    services = services_of(request)
    now = services.clock()
    flow = await oidc.take_flow(services.redis, state)
    if flow.provider != provider.name:
        raise oidc.OidcRefused("this sign-in was started with another provider",
                               reason="state_mismatch")
    async with _http() as http:
        identity = await oidc.finish(services.redis, http, provider, flow, code=code,
                                     redirect_uri=redirect_uri(request, provider), now=now)
    # The same limits as a password sign-in (per address; an account locked by wrong
    # passwords stays locked for this window).
    await limits.check_signin_allowed(services.scripts, services.settings, client_of(request),
                                      (identity.email or identity.subject).lower(),
                                      now_ms=to_ms(now))
    async with services.sessionmaker() as db:
        signed = await oidc_accounts.sign_in_identity(db, identity, now=now)
        opened = await sessions.open_session(
            db, user_id=signed.user.id, user_agent=request.headers.get("user-agent", ""),
            now=now)
        if signed.password_wiped:
            # Whoever set that password never proved the address: sign them out.
            await sessions.revoke_all(db, services.redis, user_id=signed.user.id, now=now,
                                      ttl_s=services.settings.token_ttl_seconds,
                                      keep=opened.id)
    response = RedirectResponse(flow.next_path, status_code=303)
    set_session_cookie(request, response, signed.user.id, opened.id)
    response.delete_cookie(FLOW_COOKIE, path=COOKIE_PATH)
    return response


# Browser navigations (redirects), not JSON endpoints: out of the OpenAPI document like
# the pages, and described in docs/api.md. Their refusals are problem+json all the same.
routes = [
    Route("/api/auth/oidc/{provider}/start", start, methods=["GET"], include_in_schema=False),
    Route("/api/auth/oidc/{provider}/callback", callback, methods=["GET"],
          include_in_schema=False),
]

__all__ = ["routes"]

"""CSRF guard for state changes authenticated by the session cookie (plain ASGI).

SameSite=Lax on the session cookie does not stop a form POST from another origin of
the same *site* (another port, a sibling subdomain): the browser sends the cookie.
So an unsafe request that carries the session cookie, and no bearer header, must
prove twice that it came from our own pages:

1. where it came from: `Sec-Fetch-Site: same-origin` when the browser sends that
   header, else an Origin (or, failing that, a Referer) equal to our own origin;
2. that our JS sent it: the `X-CSRF-Token` header equals the `tq_csrf` cookie
   (double submit). A cross-origin form cannot set a header, and a cross-origin
   fetch with one needs a CORS preflight we never grant.

Bearer-token clients are exempt: a browser never attaches an Authorization header
on its own, and `gateway/auth.py` ignores the cookie when one is present. Requests
without the session cookie (sign-in, Stripe webhooks) authenticate by other means.

The token cookie is readable by our JS (not HttpOnly) and SameSite=Strict. It is
set on page loads that lack it and renewed at sign-in (`set_csrf_cookie`). It lives
as long as a session, so a door app reopened offline from its service worker's cache
can still upload its queued scans when the network returns.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth import SESSION_COOKIE
from gateway.problems import Problem, problem_response

CSRF_COOKIE = "tq_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# secrets.token_urlsafe(32): 43 characters; anything else in the cookie is replaced.
TOKEN_LENGTH = 43


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def _cookie_header(token: str, *, secure: bool, max_age_s: int) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[CSRF_COOKIE] = token
    cookie[CSRF_COOKIE]["path"] = "/"
    cookie[CSRF_COOKIE]["max-age"] = max_age_s
    cookie[CSRF_COOKIE]["samesite"] = "Strict"
    if secure:
        cookie[CSRF_COOKIE]["secure"] = True
    return cookie.output(header="").strip()


def set_csrf_cookie(response: Response, *, secure: bool, max_age_s: int) -> None:
    """Give the browser a fresh token (at sign-in, so a planted one does not survive)."""
    token_cookie = _cookie_header(new_csrf_token(), secure=secure, max_age_s=max_age_s)
    response.headers.append("set-cookie", token_cookie)


def own_origin(scope: Scope, headers: Headers) -> str:
    return f"{scope['scheme']}://{headers.get('host', '')}".lower()


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def refusal(scope: Scope, headers: Headers, cookies: dict[str, str]) -> str | None:
    """Why this cookie-authenticated state change is refused, or None when it may pass."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site != "same-origin":
            return f"cross-origin request refused (Sec-Fetch-Site: {fetch_site}); use our pages"
    else:
        claimed = headers.get("origin") or headers.get("referer")
        if claimed is None:
            return "cross-origin check failed: the request has no Origin or Referer header"
        if _origin_of(claimed) != own_origin(scope, headers):
            return "cross-origin request refused: Origin is not this site"
    token = cookies.get(CSRF_COOKIE, "")
    echoed = headers.get(CSRF_HEADER, "")
    if not token or not echoed:
        return "missing CSRF token: send the tq_csrf cookie's value in an X-CSRF-Token header"
    if not hmac.compare_digest(token.encode(), echoed.encode()):
        return "CSRF token mismatch: reload the page and try again"
    return None


def carries_cookie(scope: Scope) -> bool:
    return any(name == b"cookie" for name, _ in scope["headers"])


def _parsed(scope: Scope) -> tuple[Headers, dict[str, str]]:
    headers = Headers(scope=scope)
    return headers, cookie_parser(headers.get("cookie", ""))


def state_change_refusal(scope: Scope, headers: Headers | None = None,
                         cookies: dict[str, str] | None = None) -> Problem | None:
    """The 403 for an unsafe request riding on the session cookie without passing both
    checks, or None (bearer requests and requests without the cookie always pass).
    CsrfGuard asks it, and so does the join's lane (gateway.join_lane)."""
    if headers is None or cookies is None:
        headers, cookies = _parsed(scope)
    if (
        scope["method"] in UNSAFE_METHODS
        and SESSION_COOKIE in cookies
        and "authorization" not in headers
    ):
        reason = refusal(scope, headers, cookies)
        if reason is not None:
            return Problem(403, reason)
    return None


class CsrfGuard:
    """Refuse cross-site state changes riding on the session cookie (403)."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool, max_age_s: int) -> None:
        self.app = app
        self.secure_cookies = secure_cookies
        self.max_age_s = max_age_s

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    def _http(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["method"] != "GET" and not carries_cookie(scope):
            # No cookie, nothing to check or set (bearer clients, the herd's joins): the
            # inner app's own coroutine, with no frame of ours around it.
            return self.app(scope, receive, send)
        return self._checked(scope, receive, send)

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers, cookies = _parsed(scope)
        refused = state_change_refusal(scope, headers, cookies)
        if refused is not None:
            await problem_response(refused)(scope, receive, send)
            return
        if scope["method"] != "GET" or len(cookies.get(CSRF_COOKIE, "")) == TOKEN_LENGTH:
            await self.app(scope, receive, send)
            return

        async def send_with_token(message: Message) -> None:
            # Only pages get the cookie: static files and JSON stay cacheable.
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                if response_headers.get("content-type", "").startswith("text/html"):
                    token_cookie = _cookie_header(
                        new_csrf_token(), secure=self.secure_cookies, max_age_s=self.max_age_s
                    )
                    response_headers.append("set-cookie", token_cookie)
            await send(message)

        await self.app(scope, receive, send_with_token)

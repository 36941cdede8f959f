"""Security headers on every HTTP response (plain ASGI), with a strict CSP.

The CSP allows scripts and styles from our own origin only: no inline code, no
eval. Pages pass data to their scripts through data-* attributes (a test parses
every template for inline script, style and on*= handlers). The two pages that
take a card (the buy page and the lottery entry page, CARD_PAGES) also allow the
deployment's Stripe.js (payments.stripe_js): its script origin, the origin it calls
and, with real Stripe, its frames; every other page names no third party at all.

The door scanner (/scan) needs the camera; every other page denies it. HSTS is
sent only when cookies are marked Secure, i.e. when the site is served over HTTPS:
sending it from a plain-HTTP development server would pin browsers to HTTPS.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from payments.stripe_js import StripeJs

CSP_BASE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
CAMERA_PATHS = ("/scan",)
CARD_PAGES = re.compile(r"^/drops/\d+/(buy|lottery)$")
# A Host we would echo into connect-src: name or address, optional port, nothing else.
SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def content_security_policy(scheme: str, host: str | None,
                            stripe: StripeJs | None = None) -> str:
    """The CSP for a response to `scheme://host` (with `stripe`: a page taking a card).

    connect-src names our WebSocket origin explicitly: older browsers do not let
    'self' cover ws:/wss: (the waiting room's position stream). wss is always
    listed, since a TLS proxy in front may leave the request looking like http.
    """
    connect = "connect-src 'self'"
    if host and SAFE_HOST.match(host):
        if scheme != "https":
            connect += f" ws://{host}"
        connect += f" wss://{host}"
    if stripe is None:
        return f"{CSP_BASE}; {connect}"
    policy = CSP_BASE.replace("script-src 'self'",
                              " ".join(("script-src 'self'", *stripe.script_origins)))
    connect = " ".join((connect, *stripe.connect_origins))
    frames = " ".join(("frame-src", *stripe.frame_origins)) if stripe.frame_origins else ""
    return "; ".join(part for part in (policy, connect, frames) if part)


def permissions_policy(path: str) -> str:
    camera = "(self)" if path in CAMERA_PATHS or path.startswith("/scan/") else "()"
    return f"camera={camera}, microphone=(), geolocation=(), payment=()"


HeaderList = tuple[tuple[bytes, bytes], ...]


def with_security_headers(headers: Iterable[tuple[bytes, bytes]], ours: HeaderList,
                          names: frozenset[bytes]) -> list[tuple[bytes, bytes]]:
    """An answer's headers with ours in place of any of the same names the app set."""
    kept = [(name, value) for name, value in headers if name.lower() not in names]
    kept.extend(ours)
    return kept


class SecurityHeaders:
    """Add the browser security headers to every HTTP response.

    On every request of the herd's hot path, so the headers for one (scheme, host, card
    page, camera page) are built once and kept (a few per deployment; a flood of made-up
    Host headers only refills the small cache), and the response's header list is
    copied once with them."""

    CACHED_SETS = 256

    def __init__(self, app: ASGIApp, *, https_only: bool, stripe: StripeJs | None = None) -> None:
        self.app = app
        self.https_only = https_only
        self.stripe = stripe
        # (our headers as ASGI sends them, their names: the app's own are replaced by ours)
        self._headers: dict[tuple[str, str | None, bool, str],
                            tuple[HeaderList, frozenset[bytes]]] = {}

    def headers_for(self, scheme: str, host: str | None, path: str
                    ) -> tuple[HeaderList, frozenset[bytes]]:
        card_page = CARD_PAGES.match(path) is not None
        camera = permissions_policy(path)
        key = (scheme, host, card_page, camera)
        headers = self._headers.get(key)
        if headers is None:
            stripe = self.stripe if card_page else None
            listed = [
                ("content-security-policy", content_security_policy(scheme, host, stripe)),
                ("x-frame-options", "DENY"),
                ("x-content-type-options", "nosniff"),
                ("referrer-policy", "strict-origin-when-cross-origin"),
                ("permissions-policy", camera),
            ]
            if self.https_only:
                listed.append(("strict-transport-security", HSTS))
            encoded = tuple((name.encode(), value.encode("latin-1")) for name, value in listed)
            headers = (encoded, frozenset(name for name, _ in encoded))
            if len(self._headers) >= self.CACHED_SETS:
                self._headers.clear()
            self._headers[key] = headers
        return headers

    def headers_of(self, scope: Scope) -> tuple[HeaderList, frozenset[bytes]]:
        """`headers_for` the request in `scope`."""
        return self.headers_for(scope["scheme"], Headers(scope=scope).get("host"), scope["path"])

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        ours, names = self.headers_of(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(message.get("headers", ()),
                                                           ours, names)
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""Security headers on every HTTP response (plain ASGI), with a strict CSP.

The CSP allows scripts and styles from our own origin only: no inline code, no
eval. Pages pass data to their scripts through data-* attributes (a test parses
every template for inline script, style and on*= handlers). Nothing loads
Stripe.js today (payments go through our API), so script-src names no third
party; a page that needs one adds its origin here, and only here.

The door scanner (/scan) needs the camera; every other page denies it. HSTS is
sent only when cookies are marked Secure, i.e. when the site is served over HTTPS:
sending it from a plain-HTTP development server would pin browsers to HTTPS.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_BASE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
CAMERA_PATHS = ("/scan",)
# A Host we would echo into connect-src: name or address, optional port, nothing else.
SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def content_security_policy(scheme: str, host: str | None) -> str:
    """The CSP for a response to `scheme://host`.

    connect-src names our WebSocket origin explicitly: older browsers do not let
    'self' cover ws:/wss: (the waiting room's position stream). wss is always
    listed, since a TLS proxy in front may leave the request looking like http.
    """
    connect = "connect-src 'self'"
    if host and SAFE_HOST.match(host):
        if scheme != "https":
            connect += f" ws://{host}"
        connect += f" wss://{host}"
    return f"{CSP_BASE}; {connect}"


def permissions_policy(path: str) -> str:
    camera = "(self)" if path in CAMERA_PATHS or path.startswith("/scan/") else "()"
    return f"camera={camera}, microphone=(), geolocation=(), payment=()"


class SecurityHeaders:
    """Add the browser security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, https_only: bool) -> None:
        self.app = app
        self.https_only = https_only

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        host = Headers(scope=scope).get("host")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["content-security-policy"] = content_security_policy(
                    scope["scheme"], host
                )
                headers["x-frame-options"] = "DENY"
                headers["x-content-type-options"] = "nosniff"
                headers["referrer-policy"] = "strict-origin-when-cross-origin"
                headers["permissions-policy"] = permissions_policy(scope["path"])
                if self.https_only:
                    headers["strict-transport-security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""The sign-in security page (/account/security): two-factor authentication on or off.

A page of its own, linked from the header, so it stands apart from the account page;
everything it does goes through gateway/totp_api.py from static/security.js.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gateway.templating import templates


async def security_page(request: Request) -> Response:
    """Two-factor authentication: set it up, see the recovery codes once, turn it off."""
    return templates.TemplateResponse(request, "security.html", {})


routes: list[BaseRoute] = [
    Route("/account/security", security_page, methods=["GET"], include_in_schema=False),
]

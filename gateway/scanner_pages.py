"""HTML pages of the scanner part: the door app (/scan) and the fan's tickets (/me/tickets).

Both pages are static shells that talk to the JSON API; the service worker is
served from /scan/sw.js (not /static) so that its scope can be the door app.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.templating import templates

TEMPLATES = Path(__file__).parent / "templates"
STATIC_SCAN = Path(__file__).parent / "static" / "scan"
ASSET_VERSION = "3"

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))

# Pages keep working offline only if nothing they load comes from elsewhere.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; "
        "style-src 'self'; script-src 'self'; connect-src 'self'; worker-src 'self'"
    ),
    "Cache-Control": "no-cache",
}


def _page(name: str) -> Response:
    html = _env.get_template(name).render(asset_version=ASSET_VERSION)
    return HTMLResponse(html, headers=PAGE_HEADERS)


async def scan_page(request: Request) -> Response:
    """The door app for phones: camera, manual entry, offline queue."""
    return _page("scan.html")


async def my_tickets_page(request: Request) -> Response:
    """The fan's tickets with their rotating QR codes, in the site's layout (base.html)."""
    return templates.TemplateResponse(request, "my_tickets.html",
                                      {"asset_version": ASSET_VERSION}, headers=PAGE_HEADERS)


async def service_worker(request: Request) -> Response:
    body = (STATIC_SCAN / "sw.js").read_bytes()
    return Response(body, media_type="text/javascript", headers={
        "Service-Worker-Allowed": "/scan", "Cache-Control": "no-cache"})


routes: list[BaseRoute] = [
    Route("/scan", scan_page, methods=["GET"], include_in_schema=False),
    Route("/scan/sw.js", service_worker, methods=["GET"], include_in_schema=False),
    Route("/me/tickets", my_tickets_page, methods=["GET"], include_in_schema=False),
]

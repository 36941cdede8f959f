"""Security headers on every response, and templates a strict CSP can serve."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

import gateway
from core.settings import Settings
from gateway.app import all_routes
from gateway.security_headers import CARD_PAGES, content_security_policy, permissions_policy
from payments.stripe_js import stripe_js
from tests.support.api import create_drop_setup
from tests.support.apps import running_app

TEMPLATES = Path(gateway.__file__).parent / "templates"
PAGE_PATHS = sorted(
    route.path.replace("{drop_id:id}", "{drop_id}")
    for route in all_routes()
    if isinstance(route, Route)
    and "GET" in (route.methods or ())
    and not route.path.startswith("/api")
)


def assert_security_headers(response: httpx.Response, *, camera: str = "()") -> None:
    csp = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "img-src 'self' data:", "connect-src 'self' ws://testserver",
                      "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"):
        assert directive in csp, (response.url, directive)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert f"camera={camera}" in response.headers["permissions-policy"]
    assert "strict-transport-security" not in response.headers  # plain HTTP in tests


def test_the_page_list_covers_the_pages() -> None:
    assert {"/", "/login", "/venue", "/drops/{drop_id}", "/drops/{drop_id}/buy", "/scan",
            "/me/tickets", "/me/orders", "/venue/drops/{drop_id}"} <= set(PAGE_PATHS)


async def test_every_page_route_answers_with_the_headers(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    for path in PAGE_PATHS:
        concrete = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # drop a convertor: {id:id}
        response = await client.get(concrete.format(drop_id=setup.drop_id,
                                                     event_id=setup.event_id))
        assert response.status_code < 500, (path, response.text)
        assert_security_headers(response, camera="(self)" if path.startswith("/scan") else "()")


async def test_api_answers_and_refusals_carry_them_too(client: httpx.AsyncClient) -> None:
    assert_security_headers(await client.get("/api/me"))  # 401
    assert_security_headers(await client.get("/no/such/page"))  # 404
    assert_security_headers(await client.get("/static/app.css"))
    too_big = await client.post("/api/auth/login", content=b"x",
                                headers={"Content-Length": str(10**9)})
    assert too_big.status_code == 413
    assert_security_headers(too_big)


async def test_hsts_only_with_secure_cookies(settings: Settings) -> None:
    async with (
        running_app(settings.replace(session_cookie_secure=True)) as app,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://testserver"
        ) as https_client,
    ):
        page = await https_client.get("/login")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert page.headers["content-security-policy"].endswith("connect-src 'self' wss://testserver")
    assert "Secure" in page.headers["set-cookie"]


def test_hosts_that_are_not_plain_names_stay_out_of_the_policy() -> None:
    assert content_security_policy("http", "evil.example; script-src *").endswith(
        "connect-src 'self'")
    assert content_security_policy("http", "[::1]:8000").endswith(
        "ws://[::1]:8000 wss://[::1]:8000")
    assert "camera=(self)" in permissions_policy("/scan")
    assert "camera=()" in permissions_policy("/scanner-evil")


def test_card_pages_allow_exactly_the_deployments_stripe_js(settings: Settings) -> None:
    real = stripe_js(settings.replace(stripe_api_key="sk_live_x",
                                      stripe_publishable_key="pk_live_x"))
    assert real is not None
    csp = content_security_policy("https", "shop.example", real)
    directives = dict(part.split(" ", 1) for part in csp.split("; "))
    assert directives["script-src"] == "'self' https://js.stripe.com https://*.js.stripe.com"
    assert directives["connect-src"] == "'self' wss://shop.example https://api.stripe.com"
    assert directives["frame-src"] == (
        "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com")
    assert directives["default-src"] == "'self'" and "unsafe" not in csp
    offline = stripe_js(settings.replace(stripe_api_key="sk_test_x",
                                         stripe_api_base="http://127.0.0.1:8420"))
    csp = content_security_policy("http", "127.0.0.1:8000", offline)
    directives = dict(part.split(" ", 1) for part in csp.split("; "))
    assert directives["script-src"] == "'self' http://127.0.0.1:8420"
    assert directives["connect-src"].endswith("wss://127.0.0.1:8000 http://127.0.0.1:8420")
    assert "frame-src" not in directives
    assert CARD_PAGES.match("/drops/12/buy") and CARD_PAGES.match("/drops/12/lottery")
    assert not CARD_PAGES.match("/drops/12") and not CARD_PAGES.match("/venue/drops/12/lottery")


class InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline script, style and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "style":
            self.found.append("<style>")
        if tag == "script":
            data_only = names.get("type") == "application/json"
            if "src" not in names and not data_only:
                self.found.append("inline <script>")
        for name, _value in attrs:
            if name == "style":
                self.found.append(f"style= on <{tag}>")
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name in {"href", "src", "action"} and (_value or "").startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}>")


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script_style_or_handlers(template: Path) -> None:
    parser = InlineCode()
    parser.feed(template.read_text())
    assert parser.found == [], f"{template.name}: move {parser.found} into gateway/static/"


def test_the_parser_catches_each_kind() -> None:
    parser = InlineCode()
    parser.feed('<script>x()</script><style>a{}</style><p style="x" onclick="y()">'
                '<a href="javascript:z()"></a><script src="/static/ok.js"></script>'
                '<script type="application/json">{}</script>')
    assert len(parser.found) == 5

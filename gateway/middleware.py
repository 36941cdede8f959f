"""Plain ASGI middleware (no BaseHTTPMiddleware): body cap and request metrics.

Both only concern HTTP. For anything else `__call__` returns the inner app's
coroutine instead of awaiting it, so an idle WebSocket (tens of thousands per
process) keeps no frame of theirs alive.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.routing import BaseRoute, Route, Router, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.metric_children import child
from gateway.problems import Problem, problem_response

HTTP_REQUESTS = Counter(
    "ticketq_http_requests_total",
    "HTTP requests by route and status",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "ticketq_http_request_seconds",
    "HTTP request latency by route",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class BodyLimit:
    """Refuse bodies over the cap before any handler reads them (413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    def refusal(self, scope: Scope) -> Problem | None:
        """The 413 for a declared body over the cap, or None (the join's lane asks too)."""
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return Problem(413, f"request body is larger than {self.max_bytes} bytes")
        return None

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = self.refusal(scope)
        if refused is not None:
            await problem_response(refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _label(route: BaseRoute) -> str:
    """The route's template without convertors: "/api/drops/{drop_id}", not "{drop_id:id}"."""
    if isinstance(route, Route | WebSocketRoute):
        return route.path_format
    return str(getattr(route, "path", "other"))


class RequestMetrics:
    """Count and time requests by route template.

    The router records the matched endpoint in the scope; one dict lookup turns
    it into the route's path, so routes are not matched a second time here.
    """

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router
        self._paths: dict[int, str] | None = None

    def route_path(self, scope: Scope) -> str:
        if self._paths is None:
            self._paths = {
                id(getattr(route, "endpoint", None) or getattr(route, "app", None)): _label(route)
                for route in self.router.routes
            }
        endpoint = scope.get("endpoint")
        return self._paths.get(id(endpoint), "unmatched") if endpoint is not None else "unmatched"

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def record_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            self.record(scope, method, status["code"], time.perf_counter() - started)

    def record(self, scope: Scope, method: str, status: int, seconds: float) -> None:
        """Count and time one answered request (the join's lane records here too)."""
        route = self.route_path(scope)
        child(HTTP_LATENCY, route, method).observe(seconds)
        child(HTTP_REQUESTS, route, method, str(status)).inc()

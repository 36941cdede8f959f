"""The join's short way in: POST /api/drops/{id}/queue past Starlette's layers.

The join is the herd's hot path. Through the app, a request passes ServerErrorMiddleware,
RequestId, RequestMetrics, SecurityHeaders, CsrfGuard, BodyLimit, ExceptionMiddleware,
the router, the route and Starlette's request_response wrapper: a dozen coroutines and
five `send` wrappers per answer, which the profile (docs/performance.md) put at about
as much of the worker's CPU as the join handler itself. `JoinLane` does for the join
what those layers do, in one coroutine, by asking the layers' own code:

- the request id and its header (gateway.request_id), the request's log context;
- the CSRF refusal of cookie-carrying requests (gateway.csrf) and the body cap
  (`BodyLimit.refusal`), before routing, as the layers refuse;
- the scope the router gives a matched route, and the endpoint called as Starlette's
  request_response calls it;
- Problem / DomainError / HTTPException ... answered by the app's own exception
  handlers (gateway.errors), looked up as ExceptionMiddleware looks them up;
- the security headers (`SecurityHeaders.headers_of`) and the request metrics
  (`RequestMetrics.record`: route template, status, latency) on every answer;
- an unexpected error answered by the app's 500 handler, as ServerErrorMiddleware
  does, and re-raised to the server.

The layers are the instances the app built (`Starlette.build_middleware_stack`), so
their settings are the app's. Building the lane fails if the stack holds a layer it
does not know or in another order: a new middleware must be taught to the lane, never
skipped by it unnoticed. Every other request, and the join whenever the app runs in
debug mode, goes through the layers as before; the route is matched by its own
`matches`, so routing stays the app's routes list. tests/gateway/test_join_lane.py
checks that the lane and the layers answer the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from starlette._exception_handler import _lookup_exception_handler
from starlette._utils import is_async_callable
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from core import logs
from gateway.csrf import CsrfGuard, carries_cookie, state_change_refusal
from gateway.middleware import BodyLimit, RequestMetrics
from gateway.problems import Problem, problem_response
from gateway.request_id import RequestId, begin_request, with_request_id
from gateway.security_headers import SecurityHeaders, with_security_headers

# The app's layers, outermost first, as gateway/app.py stacks them.
LAYERS = (ServerErrorMiddleware, RequestId, RequestMetrics, SecurityHeaders, CsrfGuard,
          BodyLimit, ExceptionMiddleware)

Handler = Callable[[Request, Exception], Awaitable[Response]]


def _awaitable(handler: Callable[..., Any]) -> Handler:
    if is_async_callable(handler):
        return cast(Handler, handler)

    async def in_thread(request: Request, exc: Exception) -> Response:
        return cast(Response, await run_in_threadpool(handler, request, exc))

    return in_thread


def _plain_500(errors: ServerErrorMiddleware) -> Handler:
    async def error_response(request: Request, exc: Exception) -> Response:
        return errors.error_response(request, exc)  # Starlette's own, when no handler is set

    return error_response


def _layers_of(stack: ASGIApp) -> tuple[dict[type, Any], Router]:
    """The app's layers by type, and its router; TypeError unless they are LAYERS."""
    found: list[Any] = []
    layer: Any = stack
    while not isinstance(layer, Router):
        found.append(layer)
        layer = layer.app
    if tuple(type(each) for each in found) != LAYERS:
        known = ", ".join(kind.__name__ for kind in LAYERS)
        names = ", ".join(type(each).__name__ for each in found)
        raise TypeError(f"the join lane knows the layers {known}; the app has {names}: "
                        "teach gateway.join_lane the change")
    return {type(each): each for each in found}, layer


class JoinLane:
    """The app's middleware stack, with `route`'s requests answered past its layers."""

    def __init__(self, app: Starlette, route: Route) -> None:
        self.layers = app.build_middleware_stack()  # what every other request goes through
        found, self.router = _layers_of(self.layers)
        if route not in self.router.routes:
            raise ValueError(f"{route.path} is not one of the app's routes")
        if self.router.middleware_stack != self.router.app:
            raise TypeError("the router has middleware of its own; the join lane skips it")
        errors: ServerErrorMiddleware = found[ServerErrorMiddleware]
        exceptions: ExceptionMiddleware = found[ExceptionMiddleware]
        self.route, self.endpoint = route, route.endpoint
        self.methods: set[str] = route.methods or set()
        self.enabled = not errors.debug  # debug: Starlette's traceback pages, via the layers
        self.on_error: Handler = (_awaitable(errors.handler) if errors.handler
                                  else _plain_500(errors))
        self.handlers = (exceptions._exception_handlers, exceptions._status_handlers)
        self.metrics: RequestMetrics = found[RequestMetrics]
        self.security: SecurityHeaders = found[SecurityHeaders]
        self.body_limit: BodyLimit = found[BodyLimit]

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not `async def`: either way the coroutine run is the lane's or the layers' own.
        if scope["type"] == "http" and scope["method"] in self.methods and self.enabled:
            match, child_scope = self.route.matches(scope)
            if match is Match.FULL:
                return self._join(scope, receive, send, child_scope)
        return self.layers(scope, receive, send)

    async def _join(self, scope: Scope, receive: Receive, send: Send, child_scope: Scope
                    ) -> None:
        started = time.perf_counter()
        request_id = begin_request(scope)
        status, response_started = 500, False
        try:
            with logs.scope(request_id=request_id):
                try:
                    response = await self._answer(scope, receive, send, child_scope)
                    ours, names = self.security.headers_of(scope)
                    response.raw_headers = with_request_id(
                        with_security_headers(response.raw_headers, ours, names), request_id)
                    status, response_started = response.status_code, True
                    await response(scope, receive, send)
                finally:
                    self.metrics.record(scope, scope["method"], status,
                                        time.perf_counter() - started)
        except Exception as exc:
            # As ServerErrorMiddleware: the app's 500 answer if none was started, and
            # the error goes on to the server (and gateway.disconnects) either way.
            answer = await self.on_error(Request(scope), exc)
            if not response_started:
                await answer(scope, receive, send)
            raise

    def _refusal(self, scope: Scope) -> Problem | None:
        """What the layers refuse before routing: CSRF (cookie-carrying requests only, as
        CsrfGuard skips the rest), then the body cap."""
        if carries_cookie(scope):
            refused = state_change_refusal(scope)
            if refused is not None:
                return refused
        return self.body_limit.refusal(scope)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, child_scope: Scope
                      ) -> Response:
        refused = self._refusal(scope)
        if refused is not None:
            return problem_response(refused)
        # The scope ExceptionMiddleware and the router give a matched route.
        scope["starlette.exception_handlers"] = self.handlers
        scope.setdefault("router", self.router)
        scope["route"] = self.route
        scope.update(child_scope)
        request = Request(scope, receive, send)
        try:
            response: Response = await self.endpoint(request)
            return response
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise
            answer = await handler(request, exc)
            exc.__traceback__ = None  # as Starlette: a reused instance keeps no traceback
            return answer

    def _handler_for(self, exc: Exception) -> Handler | None:
        exception_handlers, status_handlers = self.handlers
        handler = None
        if isinstance(exc, HTTPException):
            handler = status_handlers.get(exc.status_code)
        if handler is None:
            handler = _lookup_exception_handler(exception_handlers, exc)
        return None if handler is None else _awaitable(handler)

"""The queue socket's short way in: past Starlette's layers, which it does not need.

While a WebSocket is open, every coroutine between uvicorn and its handler stays
suspended, and a waiting fan's socket is open for minutes, tens of thousands per
process. Through the Starlette app that is seven frames (the application, its
ServerErrorMiddleware, ExceptionMiddleware and the closure it wraps the handler in,
the router's `__call__` and `app`, the route's `handle`) that do nothing for this
socket: the HTTP middleware pass WebSockets through, ServerErrorMiddleware only
re-raises for them, the socket answers its own refusals with 4xxx close codes
(gateway.queue_api), and an unexpected error reaches uvicorn either way (1011).
docs/performance.md has what they cost.

`socket_lane` sends a WebSocket scope that Starlette's own `Route.matches` finds for
the queue socket's route straight to its handler, behind RequestId (the one
middleware that concerns it), with the scope the router would have given it. Every
other scope goes to the app as before, so routing stays the app's `routes` list.
"""

from __future__ import annotations

from collections.abc import Awaitable

from starlette.applications import Starlette
from starlette.routing import Match, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.request_id import RequestId


def socket_lane(app: Starlette, route: WebSocketRoute) -> ASGIApp:
    """`app`, with `route`'s WebSockets handled without passing through it."""
    handler = RequestId(route.app)

    def lane(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "websocket":
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.update(child_scope)  # path_params and endpoint, as the router sets
                scope["app"] = app  # services_of(websocket), as Starlette sets it
                return handler(scope, receive, send)
        return app(scope, receive, send)

    return lane

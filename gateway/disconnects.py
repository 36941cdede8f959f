"""A fan who leaves mid-request is ordinary, not an error of ours.

At a drop thousands of clients give up or reconnect at once. Starlette raises
`ClientDisconnect` when a body is read after the client left, uvicorn's WebSocket
`send` raises `ClientDisconnected` (an OSError, which Starlette turns into
`WebSocketDisconnect`), and a handler waiting on a connection may see a stray
`CancelledError` once its client is gone. Uncaught, each of these reaches uvicorn,
which logs "Exception in ASGI application" with a traceback: 2,740 of them in one
5,000-fan rehearsal (issue 14), burying real errors. `quiet_disconnects` wraps the
whole app (outside Starlette's ServerErrorMiddleware, which would log and re-raise
them first) and counts them instead. Only HTTP: an idle WebSocket must keep no frame
of ours (docs/performance.md), so the queue socket catches its own disconnects
(gateway/queue_api.py) and counts them here. A CancelledError while the client is still
there, or that cancels this task itself (shutdown), is re-raised: that is not a
disconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from prometheus_client import Counter
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect

log = logging.getLogger("ticketq.gateway")

CLIENT_DISCONNECTS = Counter(
    "ticketq_client_disconnects_total",
    "Requests and sockets whose client left before the answer was sent",
    ["kind"],
)
GONE_MESSAGES = frozenset({"http.disconnect", "websocket.disconnect"})
# ClientDisconnected (uvicorn) and a reset socket are both OSErrors.
DISCONNECT_ERRORS = (ClientDisconnect, WebSocketDisconnect, OSError)


def quiet_disconnects(app: ASGIApp) -> ASGIApp:
    """`app`, with a client's departure counted and logged at debug instead of raised."""

    def wrapped(scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "http":
            return app(scope, receive, send)  # lifespan's errors must stay loud
        return _guarded(app, scope, receive, send)

    return wrapped


async def _guarded(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    gone = False

    async def watched_receive() -> Message:
        nonlocal gone
        message = await receive()
        if message["type"] in GONE_MESSAGES:
            gone = True
        return message

    try:
        await app(scope, watched_receive, send)
    except DISCONNECT_ERRORS as exc:
        if isinstance(exc, OSError) and not (gone or _is_client_disconnected(exc)):
            raise
        _count(scope, type(exc).__name__)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if not gone or (task is not None and task.cancelling()):
            raise
        _count(scope, "CancelledError")


def _is_client_disconnected(exc: OSError) -> bool:
    # uvicorn.protocols.utils.ClientDisconnected, by name: the gateway does not import
    # the server's internals (another ASGI server may run it).
    return type(exc).__name__ == "ClientDisconnected"


def _count(scope: Scope, error: str) -> None:
    count_disconnect(scope["type"], scope.get("path", ""), error)


def count_disconnect(kind: str, path: str, error: str) -> None:
    CLIENT_DISCONNECTS.labels(kind).inc()
    log.debug("client left %s %s (%s)", kind, path, error)

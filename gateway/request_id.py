"""The request id: taken from `X-Request-ID` when it is safe, made otherwise, sent back.

Plain ASGI middleware, outermost, so every line logged while a request (or a WebSocket)
is handled carries its id (core/logs.py), and the answer's `X-Request-ID` header names
it for the fan's support ticket or a load balancer's log. An incoming id is kept only if
it is short and of safe characters (letters, digits, `.`, `_`, `-`, up to 64), as a
load balancer or a client's retry sends it; anything else (spaces, quotes, newlines that
could forge a log line, 1 kB of text) is replaced by a fresh one, never refused.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import logs

HEADER = b"x-request-id"
_SAFE = re.compile(rb"[A-Za-z0-9._-]{1,64}")


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER and _SAFE.fullmatch(value):
            return bytes(value).decode("ascii")
    return secrets.token_hex(16)  # 32 hex characters, as uuid4().hex gave, at a fifth of the CPU


def begin_request(scope: Scope) -> str:
    """The request's id, also kept on the scope (`request.state.request_id`)."""
    request_id = request_id_of(scope)
    scope.setdefault("state", {})["request_id"] = request_id
    return request_id


def with_request_id(headers: Iterable[tuple[bytes, bytes]], request_id: str
                    ) -> list[tuple[bytes, bytes]]:
    """An answer's headers with ours as the only `X-Request-ID`, last."""
    kept = [(name, value) for name, value in headers if name.lower() != HEADER]
    kept.append((HEADER, request_id.encode()))
    return kept


def _with_id(send: Send, request_id: str) -> Send:
    async def send_with_id(message: Message) -> None:
        if message["type"] in ("http.response.start", "websocket.accept"):
            message = {**message,
                       "headers": with_request_id(message.get("headers", []), request_id)}
        await send(message)

    return send_with_id


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        kind = scope["type"]
        if kind == "http":
            return self._http(scope, receive, send)
        if kind != "websocket":
            return self.app(scope, receive, send)
        # A waiting fan's socket idles for minutes, tens of thousands per process: it
        # keeps no frame of ours (docs/performance.md). Its task's context carries the id.
        request_id = begin_request(scope)
        logs.start(request_id=request_id)
        return self.app(scope, receive, _with_id(send, request_id))

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = begin_request(scope)
        with logs.scope(request_id=request_id):
            await self.app(scope, receive, _with_id(send, request_id))

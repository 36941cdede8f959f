"""The request id: a safe incoming X-Request-ID is kept, anything else replaced, the answer
names it, and every line logged while the request runs carries it."""

from __future__ import annotations

import io
import json
import logging
import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket

from core import logs
from gateway.request_id import RequestId

log = logging.getLogger("tests.request_id")


async def _echo(request: Request) -> Response:
    logs.bind(fan_id=42)
    log.info("handled")
    return JSONResponse({"context": logs.current(), "state": request.state.request_id})


async def _socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(logs.current())
    await websocket.close()


def _app() -> Starlette:
    app = Starlette(routes=[Route("/echo", _echo), WebSocketRoute("/ws", _socket)])
    app.add_middleware(RequestId)
    return app


async def _get(headers: dict[str, str | bytes] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()),
                                 base_url="http://test") as client:
        return await client.get("/echo", headers=headers)


async def test_a_safe_incoming_id_is_kept_and_returned() -> None:
    answer = await _get({"X-Request-ID": "lb-7f3a.01_x"})
    assert answer.headers["x-request-id"] == "lb-7f3a.01_x"
    assert answer.json() == {"context": {"request_id": "lb-7f3a.01_x", "fan_id": 42},
                             "state": "lb-7f3a.01_x"}


@pytest.mark.parametrize("sent", [b"a b", b"x" * 65, b"id\"quote", "é".encode(), b"",
                                  b"a\\nfake line", b"a;b"])
async def test_an_unsafe_id_is_replaced_by_a_fresh_one(sent: bytes) -> None:
    answer = await _get({"X-Request-ID": sent})
    assert answer.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])
    assert answer.json()["context"]["request_id"] == answer.headers["x-request-id"]


async def test_each_request_gets_its_own_id() -> None:
    first, second = await _get(), await _get()
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_lines_logged_in_the_request_carry_its_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        answer = await _get({"X-Request-ID": "follow-me"})
    finally:
        log.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert answer.status_code == 200
    assert (line["msg"], line["request_id"], line["fan_id"]) == ("handled", "follow-me", 42)


async def test_a_websocket_gets_an_id_too() -> None:
    inbox: list[Message] = [{"type": "websocket.connect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return inbox.pop(0) if inbox else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "websocket", "path": "/ws", "raw_path": b"/ws", "query_string": b"",
             "headers": [(b"x-request-id", b"sock-1")], "scheme": "ws", "subprotocols": [],
             "server": ("test", 80), "client": ("127.0.0.1", 1), "root_path": ""}
    await _app()(scope, receive, send)
    accept = next(message for message in sent if message["type"] == "websocket.accept")
    assert (b"x-request-id", b"sock-1") in accept["headers"]
    text = next(message["text"] for message in sent if message["type"] == "websocket.send")
    assert json.loads(text) == {"request_id": "sock-1"}


async def test_the_gateway_answers_with_an_id(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz", headers={"X-Request-ID": "probe-1"})
    assert answer.headers["x-request-id"] == "probe-1"
    missing = await client.get("/api/events/999999999/audit")
    assert missing.status_code == 401 and re.fullmatch(r"[0-9a-f]{32}",
                                                       missing.headers["x-request-id"])

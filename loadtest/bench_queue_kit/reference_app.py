"""The yardstick: a bare Starlette app (no Redis, no auth) with a JSON endpoint the size
of a join answer and a WebSocket that sends one message and waits."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

ANSWER = {"queue_ticket": "x" * 80, "state": "waiting", "position": 1234, "ahead": 1233,
          "estimated_wait_s": 120, "paused": False, "line_length": 5000}


async def join(request: Request) -> Response:
    return JSONResponse(ANSWER, status_code=201)


async def index(request: Request) -> Response:
    return JSONResponse({"ok": True})


SOCKETS: set[WebSocket] = set()


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(ANSWER)
    SOCKETS.add(websocket)
    try:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    finally:
        SOCKETS.discard(websocket)


async def push(request: Request) -> Response:
    """Send every socket one message, one after the other (the fan-out yardstick)."""
    pushed_at_ms = time.time() * 1000
    for websocket in list(SOCKETS):
        await websocket.send_json({**ANSWER, "pushed_at_ms": pushed_at_ms})
    return JSONResponse({"sent": len(SOCKETS)})


app = Starlette(routes=[Route("/", index), Route("/join", join, methods=["POST"]),
                        Route("/push", push, methods=["POST"]), WebSocketRoute("/ws", socket)])

"""The yardstick: a bare Starlette app (no auth) with a JSON endpoint the size of a join
answer, the same endpoint after one Redis call, and a WebSocket that sends one message
and waits.

`/join` touches no Redis. `/join-redis` makes one call first (a GET of a small key)
through a client built as the gateway builds its own (core.redis_client: the same
BlockingConnectionPool and its settings); it needs REDIS_URL. A GET rather than an
EVALSHA keeps the rule that only the script registry runs scripts, and costs redis-py
the same round trip: what is measured is the client's Python, not Redis.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from core.redis_client import RedisClient, close_redis, create_redis

ANSWER = {"queue_ticket": "x" * 80, "state": "waiting", "position": 1234, "ahead": 1233,
          "estimated_wait_s": 120, "paused": False, "line_length": 5000}
REFERENCE_KEY = "bench:reference"


async def join(request: Request) -> Response:
    return JSONResponse(ANSWER, status_code=201)


async def join_after_redis(request: Request) -> Response:
    redis: RedisClient = request.app.state.redis
    await redis.get(REFERENCE_KEY)
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


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    url = os.environ.get("REDIS_URL")
    if not url:
        yield
        return
    redis = create_redis(url)
    await redis.set(REFERENCE_KEY, "x" * 80)
    app.state.redis = redis
    try:
        yield
    finally:
        await close_redis(redis)


app = Starlette(routes=[Route("/", index), Route("/join", join, methods=["POST"]),
                        Route("/join-redis", join_after_redis, methods=["POST"]),
                        Route("/push", push, methods=["POST"]), WebSocketRoute("/ws", socket)],
                lifespan=lifespan)

"""gateway/disconnects.py and the pool-timeout answers: a client that leaves is counted,
not logged as "Exception in ASGI application"; a pool that is out of connections answers
503 + Retry-After."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from core.redis_client import close_redis, create_redis
from gateway.disconnects import CLIENT_DISCONNECTS, quiet_disconnects
from gateway.errors import exception_handlers


async def read_body(request: Request) -> Response:
    return JSONResponse({"bytes": len(await request.body())})


async def cancelled(request: Request) -> Response:
    await request.receive()  # the client's departure, as a handler waiting on it sees
    raise asyncio.CancelledError  # what a library's cancelled wait leaks


async def broken(request: Request) -> Response:
    raise ConnectionResetError("not a client's departure: a server we called reset it")


def make_app() -> Starlette:
    return Starlette(routes=[Route("/body", read_body, methods=["POST"]),
                             Route("/cancelled", cancelled, methods=["POST"]),
                             Route("/broken", broken)],
                     exception_handlers=exception_handlers)  # type: ignore[arg-type]


async def call(app: object, path: str, method: str = "POST") -> list[Message]:
    """One request whose client leaves before sending its body."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"content-length", b"10")], "scheme": "http",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000), "root_path": ""}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[operator]
    return sent


def disconnects() -> float:
    return CLIENT_DISCONNECTS.labels("http")._value.get()


async def test_without_the_wrapper_a_departure_escapes_to_the_server() -> None:
    with pytest.raises(ClientDisconnect):
        await call(make_app(), "/body")


async def test_a_departure_while_reading_the_body_is_counted_not_raised() -> None:
    before = disconnects()
    await call(quiet_disconnects(make_app()), "/body")
    assert disconnects() == before + 1


async def test_a_stray_cancellation_after_the_client_left_is_counted() -> None:
    before = disconnects()
    await call(quiet_disconnects(make_app()), "/cancelled")
    assert disconnects() == before + 1


async def test_cancelling_the_request_task_itself_still_cancels_it() -> None:
    task = asyncio.create_task(call(quiet_disconnects(make_app()), "/body"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_an_unrelated_os_error_is_a_500_not_swallowed_as_a_departure() -> None:
    transport = httpx.ASGITransport(app=quiet_disconnects(make_app()), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        before = disconnects()
        response = await client.get("/broken")
    assert response.status_code == 500
    assert disconnects() == before


async def test_an_exhausted_redis_pool_answers_503_with_retry_after(redis_url: str) -> None:
    client = create_redis(redis_url, max_connections=1, pool_timeout_s=0.05)
    assert isinstance(client, Redis)
    held = await client.connection_pool.get_connection()

    async def ping(request: Request) -> Response:
        await client.ping()
        return JSONResponse({})

    app = Starlette(routes=[Route("/ping", ping)],
                    exception_handlers=exception_handlers)  # type: ignore[arg-type]
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/ping")
    finally:
        await client.connection_pool.release(held)
        await close_redis(client)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "Busy"

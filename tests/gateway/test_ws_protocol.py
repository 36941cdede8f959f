"""The trimmed uvicorn WebSocket protocol and the serving options every launcher uses."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from core.embedded import free_port
from gateway.serving import UVICORN_OPTIONS, uvicorn_args
from gateway.ws_protocol import Inbox, LeanWebSocketProtocol, WriteGate
from tests.support.waiting import eventually


async def test_inbox_hands_events_to_its_reader_in_order() -> None:
    inbox = Inbox()
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait({"type": "websocket.connect"})
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert await reader == {"type": "websocket.connect"}
    assert not inbox.empty()
    assert (await inbox.get())["type"] == "websocket.disconnect"
    assert inbox.empty()


async def test_inbox_refuses_a_second_reader_and_survives_a_cancelled_one() -> None:
    inbox = Inbox()
    first = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already receiving"):
        await inbox.get()
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    inbox.put_nowait({"type": "websocket.connect"})
    assert await inbox.get() == {"type": "websocket.connect"}


async def test_write_gate_releases_every_waiting_sender() -> None:
    gate = WriteGate()
    await gate.wait()  # open: no wait
    gate.clear()
    senders = [asyncio.create_task(gate.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    senders[0].cancel()  # one sender giving up does not strand the others
    await asyncio.sleep(0)
    assert not any(s.done() for s in senders[1:])
    gate.set()
    await asyncio.gather(*senders[1:])
    assert gate.is_set()


def test_the_protocol_replaces_attributes_uvicorn_still_has() -> None:
    # If uvicorn renames these, the subclass would silently trim nothing.
    source = WebSocketsSansIOProtocol.__init__.__code__.co_names
    assert {"queue", "writable"} <= set(source)
    assert {"request", "response"} <= set(WebSocketsSansIOProtocol.handle_connect.__code__.co_names)


def test_launchers_get_the_options_as_flags() -> None:
    assert uvicorn_args() == ["--ws", "gateway.ws_protocol:LeanWebSocketProtocol",
                              "--ws-per-message-deflate", "False", "--backlog", "8192",
                              "--interface", "asgi3"]
    assert uvicorn_args(ws="wsproto")[:2] == ["--ws", "wsproto"]


async def _echo_then_close(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "hello"})
    message = await receive()
    await send({"type": "websocket.send", "text": message["text"]})
    await send({"type": "websocket.close", "code": 4410, "reason": "expired"})


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[tuple[str, uvicorn.Server]]:
    port = free_port()
    config = uvicorn.Config(_echo_then_close, host="127.0.0.1", port=port, lifespan="off",
                            log_level="warning", **UVICORN_OPTIONS)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    def started() -> bool:
        if task.done():
            task.result()  # raises what stopped it
            raise RuntimeError("uvicorn stopped before it started")
        return server.started

    await eventually(started, interval_s=0.01, message="uvicorn to start")
    try:
        yield f"ws://127.0.0.1:{port}/", server
    finally:
        server.should_exit = True
        await task


async def test_a_browser_like_socket_talks_uncompressed_and_frees_its_handshake() -> None:
    async with serving() as (url, server):
        async with connect(url, compression="deflate") as socket:
            assert await socket.recv() == "hello"
            assert socket.protocol.extensions == []  # the deflate offer was declined
            (protocol,) = server.server_state.connections
            assert isinstance(protocol, LeanWebSocketProtocol)
            assert "request" not in vars(protocol) and "response" not in vars(protocol)
            await socket.send("ping me back")
            assert await socket.recv() == "ping me back"
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4410, "expired")

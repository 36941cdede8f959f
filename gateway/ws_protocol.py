"""uvicorn's sans-I/O WebSocket protocol, trimmed for tens of thousands of idle sockets.

A waiting fan's socket is idle almost all the time, so what it costs is what it
holds between messages. Measured under uvicorn 0.54 (10,000 sockets, tracemalloc),
the stock `websockets-sansio` protocol keeps per socket:

- an `asyncio.Queue` for received events (three deques and an `asyncio.Event`,
  each deque a 64-slot block): about 3 KiB, to hold at most a message or two,
  since uvicorn pauses reading until the app has taken each one;
- an `asyncio.Event` for write flow control (one more deque): about 0.7 KiB;
- the parsed handshake request and the response it answered with (header
  objects), about 3.5 KiB, never read again once the socket is open. Dropping
  uvicorn's references is not enough for the request: the `websockets` parser is
  a generator that keeps it in a local for the connection's life, so its headers
  are emptied (the ASGI scope has its own copy).

This subclass changes only those three: a list and one future in place of the
queue, one future made only while the transport is paused in place of the event,
and the handshake objects let go of once the handshake is done. Everything else
(framing, pings, close handshake, back-pressure) is uvicorn's own code.
`gateway.serving` names it as the gateway's `--ws`; tests/gateway/test_ws_protocol.py
pins the uvicorn attributes it relies on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class Inbox:
    """The received-events queue of one socket, for its one reader (the ASGI app)."""

    __slots__ = ("_events", "_waiter")

    def __init__(self) -> None:
        self._events: list[ASGIReceiveEvent] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, event: ASGIReceiveEvent) -> None:
        self._events.append(event)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._events

    async def get(self) -> ASGIReceiveEvent:
        if self._waiter is not None:
            # ASGI has one reader per connection; a second would wait forever here.
            raise RuntimeError("another task is already receiving on this WebSocket")
        while not self._events:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._events.pop(0)


class WriteGate:
    """Open unless the transport asked us to pause writing; any number of senders wait."""

    __slots__ = ("_open", "_reopened")

    def __init__(self) -> None:
        self._open = True
        self._reopened: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._open = True
        if self._reopened is not None:
            if not self._reopened.done():
                self._reopened.set_result(None)
            self._reopened = None

    def clear(self) -> None:
        self._open = False

    def is_set(self) -> bool:
        return self._open

    async def wait(self) -> None:
        while not self._open:
            if self._reopened is None:
                self._reopened = asyncio.get_running_loop().create_future()
            # Shielded: one cancelled sender must not cancel the others' wait.
            await asyncio.shield(self._reopened)


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = WriteGate()  # type: ignore[assignment]

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if self.handshake_complete and "request" in self.__dict__:
            # Accepted or refused: the handshake's request and response are done with.
            self.request.headers.clear()
            del self.request, self.response

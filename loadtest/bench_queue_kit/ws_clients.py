"""WebSocket subscribers for the benchmarks, many per process (uvloop).

They offer permessage-deflate, as every browser does, so the server's answer to
that offer (and its cost per socket) is part of what is measured. Each fan's socket
leaves from the 127.0.0.x source address loadtest.source_addresses gives it (so tens of
thousands of loopback connections do not run out of ephemeral ports), the same rule as
the Locust fans'. Each process reports when all its sockets are open, then records
when each fan first hears "admitted" and, for the reference server, how long each
pushed message took to arrive. Each fan sends its bearer token in the upgrade's
Authorization header, as API clients do (no credential in the URL).

Why not the `websockets` client: it costs ~80 us of CPU per received message (a task,
futures and a queue per socket), so ~12k messages a second per core. 100,000 waiting
fans hear ~50,000 messages a second (one per socket every 2 s at least), which would
need four cores of clients on a box that has two and must also run the gateways. This
client is an asyncio Protocol per socket that parses the server's frames in place
(RFC 6455, client side: unmasked frames in, masked pong and close out) and decodes
JSON only for the messages it measures, a few microseconds each.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
import zlib
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from typing import Any, cast
from urllib.parse import urlsplit

OPENING_AT_ONCE = 200
OPEN_TIMEOUT_S = 120.0
TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


@dataclass
class ClientReport:
    connected: int = 0
    failed: int = 0
    messages: int = 0
    admitted_at_ms: dict[int, float] = field(default_factory=dict)
    push_lags_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def failure(self, error: str) -> None:
        self.failed += 1
        if len(self.errors) < 5:
            self.errors.append(error)


# (fan id, socket URL, bearer token or "" for none, source address or None)
Follow = tuple[int, str, str, str | None]


def upgrade_request(url: str, token: str, compression: str | None) -> bytes:
    parts = urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
             f"Host: {parts.netloc}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if compression == "deflate":
        lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask); only short control frames are sent."""
    mask = os.urandom(4)
    body = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload[:125]))
    return bytes([0x80 | opcode, 0x80 | len(body)]) + mask + body


class Subscriber(asyncio.Protocol):
    """One fan's socket: the handshake, then frames parsed as they arrive."""

    def __init__(self, fan: int, request: bytes, report: ClientReport) -> None:
        self.fan, self.request, self.report = fan, request, report
        self.buffer = bytearray()
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.upgraded = False
        self.inflate: Any = None  # a zlib stream, if the server accepted deflate
        self.fragments: list[bytes] = []
        self.compressed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed before the first message"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded and not self._handshake():
            return
        self._frames()

    def _handshake(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).lower()
        del self.buffer[:end + 4]
        if not head.startswith(b"http/1.1 101"):
            status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
            self._fail(f"upgrade refused: {status_line}")
            return False
        if b"permessage-deflate" in head:
            self.inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        self.upgraded = True
        return True

    def _fail(self, error: str) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(error))
        if self.transport is not None:
            self.transport.abort()

    def _frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length, offset = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if second & 0x80:  # a server never masks; tolerate it all the same
                offset += 4
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset:offset + length])
            del buffer[:offset + length]
            self._frame(first, payload)

    def _frame(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        if opcode == PING:
            self._write(masked_frame(PONG, payload))
        elif opcode == CLOSE:
            self._write(masked_frame(CLOSE, payload[:2]))
            if self.transport is not None:
                self.transport.close()
        elif opcode in (TEXT, BINARY, CONTINUATION):
            if opcode != CONTINUATION:
                self.compressed = bool(first & 0x40)
            self.fragments.append(payload)
            if first & 0x80:  # FIN: the message is whole
                message = b"".join(self.fragments)
                self.fragments = []
                if self.compressed and self.inflate is not None:
                    message = self.inflate.decompress(message + b"\x00\x00\xff\xff")
                self._message(message)

    def _write(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def _message(self, message: bytes) -> None:
        report = self.report
        report.messages += 1
        if not self.opened.done():
            self.opened.set_result(None)
        # JSON only for what is measured: most messages are position updates.
        if b"admitted" in message and self.fan not in report.admitted_at_ms:
            if json.loads(message).get("state") == "admitted":
                report.admitted_at_ms[self.fan] = time.time() * 1000
        if b"pushed_at_ms" in message:
            report.push_lags_ms.append(time.time() * 1000 - json.loads(message)["pushed_at_ms"])


async def _open(follow: Follow, compression: str | None, report: ClientReport,
                opening: asyncio.Semaphore) -> asyncio.Transport | None:
    fan, url, token, source = follow
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    subscriber = Subscriber(fan, upgrade_request(url, token, compression), report)
    async with opening:
        try:
            transport, _ = await asyncio.wait_for(loop.create_connection(
                lambda: subscriber, parts.hostname or "127.0.0.1", parts.port or 80,
                local_addr=(source, 0) if source else None), OPEN_TIMEOUT_S)
            # Open once the first message arrived: the server has accepted and spoken.
            await asyncio.wait_for(asyncio.shield(subscriber.opened), OPEN_TIMEOUT_S)
        except Exception as exc:
            report.failure(repr(exc))
            if subscriber.transport is not None:
                subscriber.transport.abort()
            return None
    report.connected += 1
    return transport


# Linger on, for 0 s: close() sends RST instead of FIN, so the port is free at once.
RESET_ON_CLOSE = struct.pack("ii", 1, 0)


def close_with_reset(transport: asyncio.Transport) -> None:
    """Close without leaving the client's port in TIME_WAIT for 60 s: 100,000 sockets
    closed with a FIN kept ~94,000 ports of the source addresses from the next run's
    connects (docs/performance.md). The server only sees its fan go, as after a crash."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, RESET_ON_CLOSE)
        except OSError:
            pass  # already closed by the server: nothing lingers
    transport.abort()


async def _run(urls: list[Follow], ready: Any, stop: Event,
               compression: str | None) -> ClientReport:
    report = ClientReport()
    opening = asyncio.Semaphore(OPENING_AT_ONCE)
    opened = await asyncio.gather(*(_open(follow, compression, report, opening)
                                    for follow in urls))
    ready.put((report.connected, report.failed, report.errors))
    while not stop.is_set():
        await asyncio.sleep(0.05)
    for transport in opened:
        if transport is not None:
            close_with_reset(transport)
    return report


def run_clients(urls: list[Follow], ready: Any, stop: Event,
                compression: str | None = "deflate") -> ClientReport:
    import uvloop

    from loadtest.bench_queue_kit import raise_file_limit

    raise_file_limit()
    return uvloop.run(_run(urls, ready, stop, compression))

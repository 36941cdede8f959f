"""A fan's live queue socket inside Locust, reported as Locust request events.

Uses `websocket-client` (installed with Locust); Locust's gevent monkey-patching
makes its blocking socket cooperative, so thousands of these share one process.
The fan's bearer token goes in the upgrade's Authorization header (no URL credential).
With a `source_address` (loadtest.source_addresses) the TCP connection to a `ws://`
loopback gateway leaves from that address.

Each message becomes a Locust event of type "WS":
- "WS admitted lag": pass issued by the server (read from the pass) -> fan read it.
  This is the lag that matters: how long a fan waits to learn it is their turn.
- "WS update lag": when a message carries a server timestamp (`ts`, `sent_ms`,
  `server_ms` or `now_ms`), now minus that timestamp.
- "WS update gap": otherwise, the time since the previous message on the socket
  (the promise is at least one message every 2 s while waiting).
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import websocket
from locust.env import Environment

from loadtest.records import now_ms

SERVER_TIME_KEYS = ("ts", "sent_ms", "server_ms", "now_ms")


class SocketClosed(Exception):
    """The server closed the socket (code and reason kept for the record)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def _bound_socket(url: str, source_address: str | None, timeout_s: float
                  ) -> socket.socket | None:
    """A TCP connection to the socket's host from `source_address`, for websocket-client to
    speak over (it has no source-address option of its own); None to let it connect.
    Plain `ws://` only: websocket-client does not wrap a socket it is given in TLS."""
    parts = urlsplit(url)
    if source_address is None or parts.scheme != "ws" or parts.hostname is None:
        return None
    host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
    return socket.create_connection((host, parts.port or 80), timeout=timeout_s,
                                    source_address=(source_address, 0))


class QueueSocket:
    def __init__(
        self, environment: Environment, url: str, *, bearer_token: str = "",
        connect_timeout_s: float = 10, source_address: str | None = None,
    ) -> None:
        self.environment = environment
        self.url = url
        self.messages = 0
        self._last_ms: int | None = None
        started = time.perf_counter()
        try:
            header = [f"Authorization: Bearer {bearer_token}"] if bearer_token else []
            bound = _bound_socket(url, source_address, connect_timeout_s)
            self._ws = websocket.create_connection(url, timeout=connect_timeout_s, header=header,
                                                   socket=bound)
        except Exception as exc:
            self._fire("WS connect", (time.perf_counter() - started) * 1000, 0, exc)
            raise
        self._fire("WS connect", (time.perf_counter() - started) * 1000, 0, None)
        # Which gateway holds this socket, when a load balancer says so (loadtest.load_balancer).
        headers = self._ws.getheaders() or {}
        self.gateway: str = str(headers.get("x-tq-gateway") or "")

    def _fire(self, name: str, response_time: float, length: int, exc: Exception | None) -> None:
        self.environment.events.request.fire(  # type: ignore[no-untyped-call]
            request_type="WS",
            name=name,
            response_time=max(0.0, response_time),
            response_length=length,
            exception=exc,
            context={},
        )

    def receive(self, timeout_s: float, *, session_seconds: int) -> dict[str, Any] | None:
        """The next message, or None when `timeout_s` passes without one."""
        self._ws.settimeout(max(0.05, timeout_s))
        try:
            opcode, data = self._ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return None
        except websocket.WebSocketConnectionClosedException as exc:
            raise SocketClosed(None, "connection closed") from exc
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            raise SocketClosed(code, data[2:].decode(errors="replace"))
        received = now_ms()
        message: dict[str, Any] = json.loads(data)
        self.messages += 1
        self._report(message, received, len(data), session_seconds)
        self._last_ms = received
        return message

    def _report(self, message: dict[str, Any], received: int, length: int, session_s: int) -> None:
        from loadtest.records import pass_admitted_ms

        admission_pass = message.get("pass")
        if message.get("state") == "admitted" and isinstance(admission_pass, str):
            admitted = pass_admitted_ms(admission_pass, session_s)
            if admitted is not None:
                self._fire("WS admitted lag", received - admitted, length, None)
                return
        for key in SERVER_TIME_KEYS:
            stamp = message.get(key)
            if isinstance(stamp, int | float) and stamp > 1e12:
                self._fire("WS update lag", received - stamp, length, None)
                return
        if self._last_ms is not None:
            self._fire("WS update gap", received - self._last_ms, length, None)

    def close(self) -> None:
        try:
            self._ws.close(timeout=1)
        except Exception:
            return

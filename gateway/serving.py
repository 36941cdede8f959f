"""How a gateway process is served: the one list of uvicorn options that `ticketq serve`,
`make demo`, the test suite's gateways, the load-test stack and the benchmarks all use,
so what is measured and tested is what production runs.

Both options are about the cost of an idle WebSocket (docs/performance.md has the
figures), since one process holds tens of thousands of waiting fans:
- `ws`: uvicorn's sans-I/O `websockets` protocol, minus what it keeps per socket
  and never uses again (gateway.ws_protocol).
- `ws_per_message_deflate` off: every browser offers compression, and uvicorn
  accepts by default; each socket then keeps a pair of zlib streams, ~39 KiB,
  to shrink position messages of ~150 bytes.
- `backlog`: the listen queue the kernel keeps while the process is busy. uvicorn's
  2048 overflowed when thousands of fans connected within a second (SYNs dropped, the
  client retried after 1, 3, 7 s); TICKETQ_BACKLOG, `ticketq serve` passes the setting.
uvicorn's ping (every 20 s, which finds dead peers) and size limits stay at their defaults.
`limit_concurrency` stays off: uvicorn counts every open connection against it, idle
WebSockets included, so any value that would protect the pools refuses waiting fans;
the pools' own short waits (TICKETQ_DB_POOL_TIMEOUT_S) shed load with 503 instead.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from core.settings import Settings

GATEWAY_APP = "gateway.asgi:app"


class ServerOptions(TypedDict):  # keyword arguments of `uvicorn.run`, checked by mypy
    ws: str
    ws_per_message_deflate: bool
    backlog: int
    interface: Literal["asgi3"]


UVICORN_OPTIONS = ServerOptions(
    ws="gateway.ws_protocol:LeanWebSocketProtocol",
    ws_per_message_deflate=False,
    backlog=int(Settings.model_fields["backlog"].default),
    # gateway.disconnects wraps the app in a plain function that returns the inner app's
    # coroutine for WebSockets (no frame per idle socket); uvicorn would guess ASGI 2.
    interface="asgi3",
)


def uvicorn_args(**overrides: str | bool | int) -> list[str]:
    """`UVICORN_OPTIONS` (with any overrides) as `uvicorn` command-line flags."""
    options: dict[str, object] = {**UVICORN_OPTIONS, **overrides}
    return [part for name, value in options.items()
            for part in (f"--{name.replace('_', '-')}", str(value))]

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
uvicorn's ping (every 20 s, which finds dead peers) and size limits stay at their defaults.
"""

from __future__ import annotations

from typing import TypedDict

GATEWAY_APP = "gateway.asgi:app"


class ServerOptions(TypedDict):  # keyword arguments of `uvicorn.run`, checked by mypy
    ws: str
    ws_per_message_deflate: bool


UVICORN_OPTIONS = ServerOptions(
    ws="gateway.ws_protocol:LeanWebSocketProtocol",
    ws_per_message_deflate=False,
)


def uvicorn_args(**overrides: str | bool) -> list[str]:
    """`UVICORN_OPTIONS` (with any overrides) as `uvicorn` command-line flags."""
    options: dict[str, object] = {**UVICORN_OPTIONS, **overrides}
    return [part for name, value in options.items()
            for part in (f"--{name.replace('_', '-')}", str(value))]

"""Who opened a WebSocket: the fan's session, from a socket the site's own pages opened.

- Browsers send the session cookie on the upgrade request; API clients send
  `Authorization: Bearer <token>`, or, where a client cannot set headers (the browser
  WebSocket API), offer the subprotocols `ticketq.v1` and `ticketq.bearer.<token>`.
  The server answers `ticketq.v1`, never echoing the token. Nothing is read from the
  URL, which is logged (gateway.url_credentials).
- Cookies ride along on a cross-site WebSocket (no CORS, no SameSite for a same-site
  sibling), so a page elsewhere could open a fan's socket: cross-site WebSocket
  hijacking. A browser always sends Origin on the upgrade; one that is not our own
  origin is refused. Clients that are not browsers send none, and hold their own
  credential anyway.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from gateway.auth import require_user_id
from gateway.problems import Problem

SUBPROTOCOL = "ticketq.v1"
BEARER_SUBPROTOCOL_PREFIX = "ticketq.bearer."
_HTTP_SCHEME_OF = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def offered_subprotocols(websocket: WebSocket) -> list[str]:
    return [str(name) for name in websocket.scope.get("subprotocols", [])]


def accepted_subprotocol(websocket: WebSocket) -> str | None:
    """`ticketq.v1` when offered; a client that offers subprotocols needs one answered."""
    return SUBPROTOCOL if SUBPROTOCOL in offered_subprotocols(websocket) else None


def own_origin(websocket: WebSocket) -> str:
    scheme = _HTTP_SCHEME_OF.get(websocket.scope["scheme"], websocket.scope["scheme"])
    return f"{scheme}://{websocket.headers.get('host', '')}".lower()


def check_origin(websocket: WebSocket) -> None:
    """403 when a browser opened this socket from a page that is not ours."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return
    parts = urlsplit(origin)
    if f"{parts.scheme}://{parts.netloc}".lower() != own_origin(websocket):
        raise Problem(403, "cross-origin WebSocket refused: open it from this site's pages")


def bearer_from_subprotocols(websocket: WebSocket) -> str | None:
    for name in offered_subprotocols(websocket):
        if name.startswith(BEARER_SUBPROTOCOL_PREFIX):
            return name.removeprefix(BEARER_SUBPROTOCOL_PREFIX) or None
    return None


async def socket_fan_id(websocket: WebSocket) -> int:
    """The fan's id from their live session (401 when signed out or never signed in)."""
    check_origin(websocket)
    return await require_user_id(websocket, bearer_token=bearer_from_subprotocols(websocket))

"""gateway.socket_lane: the queue socket's WebSockets reach their handler past the app's
layers, with the scope the router would have given them; everything else goes through.
(The gateway's own sockets take the lane in every live-server test: gateway/asgi.py.)"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send

from gateway.socket_lane import socket_lane


class Recorder:
    """An ASGI endpoint that notes the scopes it was handed."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        await send({"type": "websocket.accept", "headers": []})


def _scope(path: str, kind: str = "websocket") -> Scope:
    return {"type": kind, "path": path, "raw_path": path.encode(), "query_string": b"",
            "headers": [(b"x-request-id", b"lane-1")], "scheme": "ws", "subprotocols": [],
            "server": ("test", 80), "client": ("127.0.0.1", 1), "root_path": "",
            "method": "GET"}


async def _call(app: object, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[operator]
    return sent


async def test_the_socket_route_skips_the_app_and_gets_the_routers_scope() -> None:
    socket, through_app = Recorder(), Recorder()
    route = WebSocketRoute("/ws/drops/{drop_id:int}/queue", socket)
    app = Starlette(routes=[WebSocketRoute("/{rest:path}", through_app)])
    sent = await _call(socket_lane(app, route), _scope("/ws/drops/42/queue"))
    assert not through_app.scopes
    (seen,) = socket.scopes
    assert seen["path_params"] == {"drop_id": 42} and seen["app"] is app
    assert seen["endpoint"] is socket
    # RequestId still answers the upgrade with the id and puts it on the scope.
    assert (b"x-request-id", b"lane-1") in sent[0]["headers"]
    assert seen["state"]["request_id"] == "lane-1"


async def test_other_scopes_go_through_the_app() -> None:
    socket, through_app = Recorder(), Recorder()
    route = WebSocketRoute("/ws/drops/{drop_id:int}/queue", socket)
    app = Starlette(routes=[WebSocketRoute("/{rest:path}", through_app)])
    lane = socket_lane(app, route)
    await _call(lane, _scope("/ws/drops/not-a-number/queue"))
    await _call(lane, _scope("/ws/elsewhere"))
    assert not socket.scopes and len(through_app.scopes) == 2


async def test_http_never_takes_the_lane() -> None:
    socket = Recorder()
    route = WebSocketRoute("/ws/drops/{drop_id:int}/queue", socket)
    answered: list[str] = []

    async def page(request: object) -> object:
        from starlette.responses import PlainTextResponse

        answered.append("page")
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/ws/drops/{drop_id:int}/queue", page)])
    sent = await _call(socket_lane(app, route), _scope("/ws/drops/42/queue", kind="http"))
    assert answered == ["page"] and not socket.scopes and sent[0]["status"] == 200


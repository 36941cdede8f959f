"""Who may open a fan's queue socket, on a live gateway: the fan's own session (cookie,
bearer header or bearer subprotocol), from our own origin, with nothing in the URL."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.auth import SESSION_COOKIE
from gateway.socket_auth import BEARER_SUBPROTOCOL_PREFIX, SUBPROTOCOL
from tests.support.api import create_drop_setup, sign_up


def socket_url(live_server, drop_id: int, query: str = "") -> str:
    return f"{live_server.url.replace('http', 'ws', 1)}/ws/drops/{drop_id}/queue{query}"


async def first_message_or_close(socket: ClientConnection) -> dict | tuple[int, str]:
    try:
        return dict(json.loads(await asyncio.wait_for(socket.recv(), 10)))
    except ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code, closed.rcvd.reason


async def session_cookie(live_server, fan) -> str:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        login = await http.post("/api/auth/login", json={"email": fan.email,
                                                         "password": fan.password})
        assert login.status_code == 200, login.text
        return login.cookies[SESSION_COOKIE]


@pytest.fixture
async def waiting_fan(client):
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    joined = await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert joined.status_code == 201, joined.text
    return setup.drop_id, fan, joined.json()["queue_ticket"]


async def test_the_fans_session_opens_the_socket_three_ways(live_server, waiting_fan):
    drop_id, fan, _ = waiting_fan
    url = socket_url(live_server, drop_id)
    cookie = await session_cookie(live_server, fan)
    own_origin = live_server.url
    async with connect(url, additional_headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
                       origin=own_origin) as socket:
        assert (await first_message_or_close(socket))["position"] == 1
    async with connect(url, additional_headers=fan.headers) as socket:
        assert (await first_message_or_close(socket))["state"] == "waiting"
    offered = [SUBPROTOCOL, BEARER_SUBPROTOCOL_PREFIX + fan.token]
    async with connect(url, subprotocols=offered) as socket:
        assert socket.subprotocol == SUBPROTOCOL  # the token is never echoed back
        assert (await first_message_or_close(socket))["position"] == 1


async def test_no_session_no_socket(live_server, waiting_fan):
    drop_id, fan, ticket = waiting_fan
    url = socket_url(live_server, drop_id)
    async with connect(url) as socket:
        code, reason = await first_message_or_close(socket)
    assert code == 4401 and "sign in" in reason
    # The fan's queue ticket, signed out, opens nothing: not in the URL...
    async with connect(socket_url(live_server, drop_id, f"?ticket={ticket}")) as socket:
        code, reason = await first_message_or_close(socket)
    assert code == 4400 and "never go in the URL" in reason
    # ...and not as a bearer token either.
    forged = [SUBPROTOCOL, BEARER_SUBPROTOCOL_PREFIX + ticket]
    async with connect(url, subprotocols=forged) as socket:
        assert (await first_message_or_close(socket))[0] == 4401
    # A signed-out session's token is refused.
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        assert (await http.post("/api/auth/logout", headers=fan.headers)).status_code < 300
    async with connect(url, additional_headers=fan.headers) as socket:
        code, reason = await first_message_or_close(socket)
    assert code == 4401 and "signed out" in reason


async def test_a_page_elsewhere_cannot_ride_the_fans_cookie(live_server, waiting_fan):
    """Cross-site WebSocket hijacking: the browser attaches the cookie and says where the
    page came from; a socket opened from another origin is closed before any message."""
    drop_id, fan, _ = waiting_fan
    cookie = {"Cookie": f"{SESSION_COOKIE}={await session_cookie(live_server, fan)}"}
    port = live_server.url.rsplit(":", 1)[1]
    for elsewhere in ("http://evil.example", f"http://127.0.0.1:{int(port) + 1}",
                      live_server.url.replace("http:", "https:")):
        async with connect(socket_url(live_server, drop_id), additional_headers=cookie,
                           origin=elsewhere) as socket:
            code, reason = await first_message_or_close(socket)
        assert code == 4403 and "cross-origin" in reason, elsewhere

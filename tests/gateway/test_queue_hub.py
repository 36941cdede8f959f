"""The live position WebSocket, through a real uvicorn process served as production is
(gateway.serving: the lean sans-I/O protocol, compression declined)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from itsdangerous import TimestampSigner
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from core.clock import to_ms, utcnow
from gateway.context import app_services
from queue_engine.credentials import QUEUE_TICKET_SALT
from queue_engine.passes import admit_batch
from tests.support.api import create_drop_setup, sign_up
from tests.support.waiting import eventually


def ws_url(live_server, drop_id: int | str, ticket: str) -> str:
    return f"{live_server.url.replace('http', 'ws', 1)}/ws/drops/{drop_id}/queue?ticket={ticket}"


async def next_message(socket, predicate, timeout_s: float = 15):
    async def matching():
        message = json.loads(await socket.recv())
        return message if predicate(message) else None

    return await eventually(matching, timeout_s=timeout_s, interval_s=0,
                            message="a matching message on the socket")


async def join(client, drop_id: int, fan) -> str:
    answer = await client.post(f"/api/drops/{drop_id}/queue", headers=fan.headers)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["queue_ticket"]


async def test_positions_fall_live_until_admitted(client, app, live_server):
    setup = await create_drop_setup(client, admit_per_minute=600, max_active=50)
    fans = [await sign_up(client) for _ in range(3)]
    tickets = [await join(client, setup.drop_id, fan) for fan in fans]
    scripts = app_services(app).scripts
    async with connect(ws_url(live_server, setup.drop_id, tickets[2])) as socket:
        first = json.loads(await socket.recv())
        assert (first["state"], first["position"], first["ahead"]) == ("waiting", 3, 2)
        # Nothing changes: a keep-alive still arrives (at least every 2 s).
        same = await next_message(socket, lambda m: True)
        assert same["position"] == 3
        await admit_batch(scripts, setup.drop_id, now_ms=to_ms(utcnow()), max_per_call=1)
        await next_message(socket, lambda m: m["position"] == 2)
        await client.delete(f"/api/drops/{setup.drop_id}/queue", headers=fans[1].headers)
        await next_message(socket, lambda m: m["position"] == 1)
        await admit_batch(scripts, setup.drop_id, now_ms=to_ms(utcnow()), max_per_call=1)
        admitted = await next_message(socket, lambda m: m["state"] == "admitted")
        assert admitted["purchase_url"].startswith(f"/drops/{setup.drop_id}/buy?pass=")
        assert admitted["pass"] and admitted["pass_expires_in_s"] > 0
    # Reconnecting with the same ticket finds the same (admitted) place.
    async with connect(ws_url(live_server, setup.drop_id, tickets[2])) as socket:
        assert json.loads(await socket.recv())["state"] == "admitted"
    async with connect(ws_url(live_server, setup.drop_id, tickets[0])) as socket:
        assert json.loads(await socket.recv())["state"] == "admitted"


async def close_code(url: str) -> tuple[int, str]:
    async with connect(url) as socket:
        try:
            await asyncio.wait_for(socket.recv(), 10)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("the socket stayed open")


async def test_bad_tickets_close_with_4xxx(client, live_server, settings):
    one, two = await create_drop_setup(client), await create_drop_setup(client)
    fan = await sign_up(client)
    ticket = await join(client, one.drop_id, fan)
    code, reason = await close_code(ws_url(live_server, one.drop_id, "forged"))
    assert code == 4401 and "not one we issued" in reason
    assert (await close_code(ws_url(live_server, two.drop_id, ticket)))[0] == 4403

    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * settings.queue_ticket_ttl_seconds

    expired = LongAgo(settings.secret_key, salt=QUEUE_TICKET_SALT).sign(
        f"{fan.id}~{one.drop_id}").decode()
    assert (await close_code(ws_url(live_server, one.drop_id, expired)))[0] == 4410
    await client.delete(f"/api/drops/{one.drop_id}/queue", headers=fan.headers)
    assert (await close_code(ws_url(live_server, one.drop_id, ticket)))[0] == 4404
    # 0 is no drop id at all: no route matches, so the handshake itself is refused.
    for not_an_id in (0, "%C2%B3", 2**63):
        with pytest.raises(InvalidStatus) as refused:
            await close_code(ws_url(live_server, not_an_id, ticket))
        assert refused.value.response.status_code == 403

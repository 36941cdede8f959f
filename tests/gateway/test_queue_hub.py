"""The live position WebSocket, through a real uvicorn process served as production is
(gateway.serving: the lean sans-I/O protocol, compression declined)."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from core.clock import to_ms, utcnow
from gateway.context import app_services
from gateway.queue_hub import DropFeed
from queue_engine.passes import admit_batch
from queue_engine.positions import DropStatus
from tests.support.api import create_drop_setup, sign_up
from tests.support.waiting import eventually


def ws_url(live_server, drop_id: int | str) -> str:
    return f"{live_server.url.replace('http', 'ws', 1)}/ws/drops/{drop_id}/queue"


async def next_message(socket, predicate, timeout_s: float = 15):
    async def matching():
        message = json.loads(await socket.recv())
        return message if predicate(message) else None

    return await eventually(matching, timeout_s=timeout_s, interval_s=0,
                            message="a matching message on the socket")


async def join(client, drop_id: int, fan) -> None:
    answer = await client.post(f"/api/drops/{drop_id}/queue", headers=fan.headers)
    assert answer.status_code in (200, 201), answer.text


async def test_positions_fall_live_until_admitted(client, app, live_server):
    setup = await create_drop_setup(client, admit_per_minute=600, max_active=50)
    fans = [await sign_up(client) for _ in range(3)]
    for fan in fans:
        await join(client, setup.drop_id, fan)
    scripts = app_services(app).scripts
    async with connect(ws_url(live_server, setup.drop_id),
                       additional_headers=fans[2].headers) as socket:
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
        assert admitted["purchase_url"] == f"/drops/{setup.drop_id}/buy"
        assert admitted["pass"] and admitted["pass_expires_in_s"] > 0
    # Reconnecting with the same session finds the same (admitted) place.
    async with connect(ws_url(live_server, setup.drop_id),
                       additional_headers=fans[2].headers) as socket:
        assert json.loads(await socket.recv())["state"] == "admitted"
    async with connect(ws_url(live_server, setup.drop_id),
                       additional_headers=fans[0].headers) as socket:
        assert json.loads(await socket.recv())["state"] == "admitted"


async def close_code(url: str, headers: dict[str, str]) -> tuple[int, str]:
    async with connect(url, additional_headers=headers) as socket:
        try:
            await asyncio.wait_for(socket.recv(), 10)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("the socket stayed open")


async def test_refusals_close_with_4xxx(client, live_server):
    one, two = await create_drop_setup(client), await create_drop_setup(client)
    fan = await sign_up(client)
    await join(client, one.drop_id, fan)
    code, reason = await close_code(ws_url(live_server, one.drop_id),
                                    {"Authorization": "Bearer forged"})
    assert code == 4401 and "sign in again" in reason
    # No place in the other drop's line, or no more in this one: 4404 (the page joins again).
    assert (await close_code(ws_url(live_server, two.drop_id), fan.headers))[0] == 4404
    await client.delete(f"/api/drops/{one.drop_id}/queue", headers=fan.headers)
    assert (await close_code(ws_url(live_server, one.drop_id), fan.headers))[0] == 4404
    # 0 is no drop id at all: no route matches, so the handshake itself is refused.
    for not_an_id in (0, "%C2%B3", 2**63):
        with pytest.raises(InvalidStatus) as refused:
            await close_code(ws_url(live_server, not_an_id), fan.headers)
        assert refused.value.response.status_code == 403


def _status(meta: dict[str, str], departures: tuple[int, ...] = ()) -> DropStatus:
    return DropStatus(drop_id=1, read_at_ms=1_000, meta=meta, line_length=10, prequeue_size=0,
                      live_passes=0, admitted_in_window=0, departures=list(departures))


def test_a_poll_between_ticks_ticks_only_when_sockets_have_news() -> None:
    meta = {"synced": "1", "state": "scheduled", "opened": "1", "admitted": "5",
            "prequeue_opens_at_ms": "0", "opens_at_ms": "0", "closes_at_ms": "9999999999999"}
    feed = DropFeed(drop_id=1)
    assert feed.moved(_status(meta))  # nothing heard yet
    feed.status = _status(meta)
    feed.phase = feed.status.phase
    # Joins (next_seq) and the admission tick's bucket (tokens) are no news to a socket.
    assert not feed.moved(_status({**meta, "next_seq": "99", "tokens": "3", "tokens_at_ms": "7"}))
    assert feed.moved(_status({**meta, "admitted": "6"}))  # someone's turn came
    assert feed.moved(_status(meta, departures=(7,)))  # everyone behind moves up
    assert feed.moved(_status({**meta, "state": "paused"}))  # a change of phase

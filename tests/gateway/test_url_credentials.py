"""Issue 11, finding 6, against a live gateway: credentials in URLs are refused, and a
signed-out holder of a fan's queue ticket or admission pass can neither make the fan
leave the line nor read their pass."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request

from core.clock import to_ms, utcnow
from gateway.context import app_services
from gateway.problems import Problem
from gateway.url_credentials import refuse_url_credentials
from queue_engine.passes import admit_batch
from tests.support.api import create_drop_setup, sign_up


def request_with(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query.encode(),
                    "headers": []})


@pytest.mark.parametrize("query", ["ticket=abc", "pass=", "token=x&a=1", "a=1&access_token=y"])
def test_a_credential_in_the_query_is_refused(query: str) -> None:
    with pytest.raises(Problem) as refused:
        refuse_url_credentials(request_with(query))
    assert refused.value.status == 400 and "never go in the URL" in refused.value.detail


def test_other_query_names_pass() -> None:
    refuse_url_credentials(request_with("next=/me&tickets=2"))


@pytest.fixture
async def stranger(live_server) -> AsyncIterator[httpx.AsyncClient]:
    """Someone who found a fan's credential (in a log, a shared link) and is not signed in."""
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        yield http


async def test_signed_out_ticket_holder_cannot_make_the_fan_leave(client, stranger):
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    queue = f"/api/drops/{setup.drop_id}/queue"
    ticket = (await client.post(queue, headers=fan.headers)).json()["queue_ticket"]
    # Before the change this DELETE (no session, the fan's ticket in the URL) made them leave.
    by_query = await stranger.delete(queue, params={"ticket": ticket})
    assert by_query.status_code == 400, by_query.text
    assert by_query.headers["content-type"] == "application/problem+json"
    assert by_query.json()["reason"] == "credential_in_url"
    by_header = await stranger.delete(queue, headers={"X-Queue-Ticket": ticket})
    assert by_header.status_code == 401
    assert (await stranger.get(queue, params={"ticket": ticket})).status_code == 400
    assert (await stranger.get(queue)).status_code == 401
    # The ticket in the URL is refused even with the fan's own session: it leaks.
    own_but_in_url = await stranger.get(queue, params={"ticket": ticket}, headers=fan.headers)
    assert own_but_in_url.status_code == 400
    mine = await stranger.get(queue, headers=fan.headers)
    assert mine.status_code == 200 and (mine.json()["state"], mine.json()["position"]) == (
        "waiting", 1)


async def test_signed_out_pass_holder_reads_nothing(client, app, stranger):
    setup = await create_drop_setup(client, max_active=10)
    fan, other = await sign_up(client), await sign_up(client)
    queue = f"/api/drops/{setup.drop_id}/queue"
    assert (await client.post(queue, headers=fan.headers)).status_code == 201
    await admit_batch(app_services(app).scripts, setup.drop_id, now_ms=to_ms(utcnow()) + 1000)
    admitted = (await stranger.get(queue, headers=fan.headers)).json()
    assert admitted["state"] == "admitted" and admitted["pass"]
    assert admitted["purchase_url"] == f"/drops/{setup.drop_id}/buy"  # no pass in the link
    # The old link, with the pass in it, is refused and shows nothing of the drop or the pass.
    old_link = await stranger.get(f"/drops/{setup.drop_id}/buy", params={"pass": admitted["pass"]})
    assert old_link.status_code == 400 and admitted["pass"] not in old_link.text
    # The pass is read with the fan's own session only.
    assert (await stranger.get(queue)).status_code == 401
    assert (await stranger.get(queue, headers=other.headers)).status_code == 404
    page = await stranger.get(f"/drops/{setup.drop_id}/buy", headers=fan.headers)
    assert page.status_code == 200 and admitted["pass"] not in page.text

"""One HTTP call helper for every simulated user: statuses the story expects are not failures.

A 409 "sold out" is the right answer for a late fan and a 403 is the right
answer for a bot, so those are marked successful in Locust's statistics; what
Locust then counts as failures are real errors (5xx, timeouts, surprises),
which the report lists by kind.

`bind_source_address` makes a user's HTTP connections leave from the loopback source
address loadtest.source_addresses picks for it (past ~28k sockets one address runs
out of ephemeral ports).
"""

from __future__ import annotations

import json
from typing import Any

import gevent.socket
from geventhttpclient.client import HTTPClient, HTTPClientPool
from geventhttpclient.url import URL
from locust.contrib.fasthttp import FastHttpSession

from loadtest.pow_solver import SolverPool
from loadtest.source_addresses import source_for

Body = dict[str, Any]
_SOLVERS = SolverPool()  # this Locust process's; started on the first challenge


def call(
    client: FastHttpSession,
    method: str,
    path: str,
    *,
    name: str,
    expected: tuple[int, ...] = (),
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> tuple[int, Body]:
    """(status, JSON body or {}) ; 2xx and `expected` statuses count as successes."""
    kwargs: dict[str, Any] = {"name": name, "catch_response": True, "headers": headers or {}}
    if json_body is not None:
        kwargs["json"] = json_body
    if data is not None:
        kwargs["data"] = data
    with client.request(method, path, **kwargs) as response:
        status = int(response.status_code or 0)
        body: Body = {}
        text = response.text or ""
        if text:
            try:
                parsed = json.loads(text)
                body = parsed if isinstance(parsed, dict) else {"items": parsed}
            except ValueError:
                body = {"raw": text[:200]}
        if 200 <= status < 300 or status in expected:
            response.success()
        else:
            detail = body.get("detail") or body.get("title") or text[:120]
            response.failure(f"HTTP {status}: {detail}")
    return status, body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def solved_challenge(client: FastHttpSession, drop_id: int, headers: dict[str, str], *,
                     name: str = "challenge") -> str | None:
    """This account's join challenge for a drop, solved with altcha's solver as a browser
    solves it, off this process's gevent loop (loadtest.pow_solver): the payload to send
    as the join's `challenge`; None when the drop asks none or the gateway refused one."""
    status, body = call(client, "GET", f"/api/drops/{drop_id}/challenge", name=name,
                        expected=(404,), headers=headers)
    if status != 200:
        return None
    return _SOLVERS.solve(body)


def needs_challenge(status: int, body: Body) -> bool:
    return status == 422 and body.get("code") == "ChallengeRequired"


class SourceBoundClientPool(HTTPClientPool):
    """geventhttpclient's per-host client pool, whose connections to a loopback host leave
    from this user's source address (loadtest.source_addresses)."""

    def __init__(self, index: int, addresses: int, **client_args: Any) -> None:
        super().__init__(**client_args)
        self.index, self.addresses = index, addresses

    def get_client(self, url: str | URL) -> HTTPClient:
        url = url if isinstance(url, URL) else URL(url)
        new = (url.host, url.port) not in self.clients
        client = super().get_client(url)
        source = source_for(url.host, self.index, self.addresses) if new else None
        if source is not None:
            # ConnectionPool documents `_create_tcp_socket` as its socket factory to
            # override; HTTPClient builds its pool itself, so it is set on the instance.
            # tests/loadtest/test_source_addresses.py pins it with a real connection.
            pool = client._connection_pool
            pool.disable_ipv6 = True  # "localhost" must resolve to 127.0.0.1, not ::1

            def bound_socket(family: int, socktype: int, protocol: int) -> Any:
                sock = gevent.socket.socket(family, socktype, protocol)
                sock.bind((source, 0))
                return sock

            pool._create_tcp_socket = bound_socket  # type: ignore[method-assign]
        return client


def bind_source_address(session: FastHttpSession, index: int, addresses: int) -> None:
    """From now on, `session` connects to loopback hosts from the source address of user
    `index` among `addresses` (a no-op for one address). Call before its first request."""
    if addresses <= 1:
        return
    user_agent = session.client
    unbound = user_agent.clientpool
    user_agent.clientpool = SourceBoundClientPool(index, addresses, **unbound.client_args)
    unbound.close()

"""gateway.join_lane: the join past Starlette's layers answers what the layers answer.

Each case sends the same request to the gateway (whose joins take the lane) and to the
same app's layers alone (`JoinLane.layers`, what Starlette would have run), and compares
status, headers and body. The request id is sent, so that header is comparable too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from core import errors as domain
from core import logs
from gateway.context import app_services
from gateway.csrf import CsrfGuard
from gateway.errors import exception_handlers
from gateway.join_lane import JoinLane
from gateway.middleware import BodyLimit, RequestMetrics
from gateway.problems import Problem
from gateway.request_id import RequestId
from gateway.security_headers import SecurityHeaders
from tests.support.api import Account, create_drop_setup, sign_up

JOIN_LABEL = "/api/drops/{drop_id}/queue"
# What differs between two answers to the same request by design.
VOLATILE_HEADERS = {"content-length"}  # the queue ticket's signature time may differ


def lane_of(app: Starlette) -> JoinLane:
    lane = app.middleware_stack
    assert isinstance(lane, JoinLane)
    return lane


def layers_alone(app: Starlette) -> ASGIApp:
    """The app as Starlette would run it without the lane."""
    layers = lane_of(app).layers

    async def through_layers(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app
        await layers(scope, receive, send)

    return through_layers


@pytest.fixture
async def both(app: Starlette) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(through the lane, through the layers alone), neither keeping cookies."""
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                          base_url="http://testserver") as lane,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=layers_alone(app)),
                          base_url="http://testserver") as layered,
    ):
        yield lane, layered


@pytest.fixture
def lane_taken(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths that reached the layers through the gateway's own entry point."""
    lane = lane_of(app)
    through, layers = [], lane.layers

    def counting(scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] == "http":
            through.append(scope["path"])
        return layers(scope, receive, send)

    monkeypatch.setattr(lane, "layers", counting)
    yield through


def comparable(answer: httpx.Response) -> tuple[int, list[tuple[str, str]], Any]:
    headers = [(name, value) for name, value in answer.headers.multi_items()
               if name not in VOLATILE_HEADERS]
    body: Any = answer.content
    if answer.headers.get("content-type", "").startswith("application/json"):
        body = answer.json()
        body.pop("queue_ticket", None)
    return answer.status_code, headers, body


async def same_answer(both: tuple[httpx.AsyncClient, httpx.AsyncClient], path: str,
                      **request: Any) -> httpx.Response:
    lane, layered = both
    headers = {"X-Request-ID": "lane-test-1", **request.pop("headers", {})}
    through_layers = await layered.post(path, headers=headers, **request)
    through_lane = await lane.post(path, headers=headers, **request)
    assert comparable(through_lane) == comparable(through_layers)
    assert len(through_lane.content) == len(through_layers.content)
    return through_lane


def counted(status: str, route: str = JOIN_LABEL) -> float:
    value = REGISTRY.get_sample_value("ticketq_http_requests_total",
                                      {"route": route, "method": "POST", "status": status})
    return value or 0.0


def timed(route: str = JOIN_LABEL) -> float:
    value = REGISTRY.get_sample_value("ticketq_http_request_seconds_count",
                                      {"route": route, "method": "POST"})
    return value or 0.0


async def test_a_join_takes_the_lane_and_answers_as_the_layers(client, both, lane_taken):
    setup = await create_drop_setup(client)
    queue = f"/api/drops/{setup.drop_id}/queue"
    lane, layered = both
    fans = [await sign_up(client), await sign_up(client)]
    lane_taken.clear()
    # A new place each way: the same answer but for the place and the fan's ticket.
    first = await layered.post(queue, headers=fans[0].headers)
    second = await lane.post(queue, headers=fans[1].headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["position"], second.json()["position"]) == (1, 2)
    assert sorted(first.headers.keys()) == sorted(second.headers.keys())
    assert lane_taken == []  # the gateway's join never reached the layers
    # The same place again, each way: the same bytes.
    rejoined = await same_answer(both, queue, headers=fans[1].headers)
    assert rejoined.status_code == 200 and rejoined.json()["position"] == 2
    assert rejoined.headers["x-request-id"] == "lane-test-1"
    assert rejoined.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in rejoined.headers
    assert lane_taken == []
    # Everything else goes through the layers.
    assert (await lane.get(queue, headers=fans[1].headers)).status_code == 200
    assert lane_taken == [queue]


async def test_refusals_answer_as_the_layers(client, app, both):
    setup = await create_drop_setup(client)
    queue = f"/api/drops/{setup.drop_id}/queue"
    fan = await sign_up(client)
    cap = app_services(app).settings.max_body_bytes
    json_type = {"Content-Type": "application/json"}
    cases: list[tuple[int, dict[str, Any]]] = [
        (401, {}),
        (401, {"headers": {"Authorization": "Bearer forged.token"}}),
        (401, {"headers": {"Authorization": "Basic abc"}}),
        (413, {"headers": fan.headers, "content": b"x" * (cap + 1)}),
        (400, {"headers": {**fan.headers, **json_type}, "content": b"{not json"}),
        (422, {"headers": {**fan.headers, **json_type}, "content": b"[1]"}),
        (422, {"headers": {**fan.headers, **json_type}, "content": b'{"challenge": 5}'}),
        (422, {"headers": {**fan.headers, **json_type}, "content": b'{"other": "x"}'}),
        (415, {"headers": {**fan.headers, "Content-Type": "text/plain"}, "content": b"hi"}),
    ]
    for status, request in cases:
        answer = await same_answer(both, queue, **request)
        assert answer.status_code == status, (request, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    # A drop nobody made: the domain's 404, rendered by gateway.errors.
    unknown = await same_answer(both, "/api/drops/987654321/queue", headers=fan.headers)
    assert unknown.status_code == 404 and unknown.json()["instance"].endswith("/queue")
    # Not a drop id: the router's 404, through the layers both ways.
    assert (await same_answer(both, "/api/drops/0/queue", headers=fan.headers)
            ).status_code == 404


async def _cookie_session(client: httpx.AsyncClient, account: Account) -> dict[str, str]:
    client.cookies.clear()
    signed_in = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password})
    assert signed_in.status_code == 200, signed_in.text
    cookies = dict(client.cookies)
    client.cookies.clear()
    return cookies


async def test_csrf_refuses_cookie_joins_as_the_layers(client, both):
    setup = await create_drop_setup(client)
    queue = f"/api/drops/{setup.drop_id}/queue"
    fan = await sign_up(client)
    cookies = await _cookie_session(client, fan)
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    forged = {"Cookie": cookie, "Origin": "http://testserver:8001",
              "Sec-Fetch-Site": "same-site"}
    refused = await same_answer(both, queue, headers=forged)
    assert refused.status_code == 403 and "cross-origin" in refused.json()["detail"]
    no_token = {"Cookie": cookie, "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert (await same_answer(both, queue, headers=no_token)).status_code == 403
    ours = {**no_token, "X-CSRF-Token": cookies["tq_csrf"]}
    lane, layered = both
    assert (await layered.post(queue, headers=ours)).status_code == 201
    assert (await same_answer(both, queue, headers=ours)).status_code == 200
    # A bearer header: no CSRF check, as the guard steps aside (the cookie is ignored).
    assert (await lane.post(queue, headers={**forged, **fan.headers})).status_code == 200


async def test_the_lane_records_metrics_and_the_request_id(client, app, both):
    setup = await create_drop_setup(client)
    queue = f"/api/drops/{setup.drop_id}/queue"
    fan = await sign_up(client)
    lane, _ = both
    created, times = counted("201"), timed()
    joined = await lane.post(queue, headers=fan.headers)
    assert joined.status_code == 201
    assert (counted("201"), timed()) == (created + 1, times + 1)
    assert len(joined.headers["x-request-id"]) == 32  # made, since none was sent
    unauthorised = counted("401")
    refused = await lane.post(queue, headers={"X-Request-ID": "bad id with spaces"})
    assert refused.status_code == 401 and counted("401") == unauthorised + 1
    assert refused.headers["x-request-id"] != "bad id with spaces"
    # Refused before routing (the body cap): labelled as the layers label it.
    oversized = counted("413", "unmatched")
    big = b"x" * (1 + app_services(app).settings.max_body_bytes)
    assert (await lane.post(queue, content=big)).status_code == 413
    assert counted("413", "unmatched") == oversized + 1


# A tiny app stacked as gateway/app.py stacks it, for answers the real join never gives.


async def _fails(request: Request) -> Response:
    kind = request.query_params["kind"]
    if kind == "problem":
        raise Problem(409, "taken", headers={"X-Why": "because"}, code="Taken")
    if kind == "busy":
        raise domain.Busy("busy; try again", retry_after_s=7)
    if kind == "http":
        raise HTTPException(405, headers={"Allow": "POST"})
    if kind == "logs":
        return JSONResponse(logs.current(), headers={"Set-Cookie": "a=b"})
    raise RuntimeError("an error of ours")


FAILS = Route("/fails", _fails, methods=["POST"])


def _tiny_app(*extra: Middleware) -> Starlette:
    app = Starlette(routes=[FAILS], exception_handlers=exception_handlers,  # type: ignore[arg-type]
                    middleware=[Middleware(SecurityHeaders, https_only=True), *extra,
                                Middleware(CsrfGuard, secure_cookies=True, max_age_s=60),
                                Middleware(BodyLimit, max_bytes=1024)])
    app.add_middleware(RequestMetrics, router=app.router)
    app.add_middleware(RequestId)
    app.middleware_stack = JoinLane(app, FAILS)
    return app


async def test_errors_answer_as_the_layers_answer_them():
    app = _tiny_app()
    lane, layered = (httpx.AsyncClient(transport=httpx.ASGITransport(
        app=asgi, raise_app_exceptions=False), base_url="https://testserver")
        for asgi in (app, layers_alone(app)))
    async with lane, layered:
        for kind, status in (("problem", 409), ("busy", 503), ("http", 405), ("oops", 500),
                             ("logs", 200)):
            answers = [await client.post("/fails", params={"kind": kind},
                                         headers={"X-Request-ID": "tiny-1"})
                       for client in (lane, layered)]
            assert answers[0].status_code == status
            assert answers[0].headers.multi_items() == answers[1].headers.multi_items()
            assert answers[0].content == answers[1].content
        assert answers[0].json() == {"request_id": "tiny-1"}  # the log context, both ways
        busy = await lane.post("/fails", params={"kind": "busy"})
        assert busy.headers["retry-after"] == "7" and "strict-transport-security" in busy.headers
        # An error of ours: the app's 500 answer, without the layers' headers (as
        # ServerErrorMiddleware answers outside them), and the error reaches the server.
        oops = await lane.post("/fails", params={"kind": "oops"})
        assert json.loads(oops.content)["title"] == "Internal error"
        assert "x-request-id" not in oops.headers
    with pytest.raises(RuntimeError, match="an error of ours"):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="https://testserver") as raising:
            await raising.post("/fails", params={"kind": "oops"})


def test_a_layer_the_lane_does_not_know_stops_the_app_from_being_built():
    class Unknown:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)

    with pytest.raises(TypeError, match=r"teach gateway\.join_lane"):
        _tiny_app(Middleware(Unknown))
    with pytest.raises(ValueError, match="not one of the app's routes"):
        JoinLane(_tiny_app(), Route("/elsewhere", _fails, methods=["POST"]))

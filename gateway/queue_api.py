"""The waiting room over HTTP and WebSocket: join, poll, leave, live positions, and the
operator's pause / resume / close / pacing controls."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Annotated

from pydantic import Field, model_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from accounts.verification import require_verified
from bootstrap import queue_controls as controls
from bootstrap.queue_configs import config_loader
from bootstrap.services import Services
from core import logs
from core.clock import to_ms
from core.errors import DomainError
from core.script_batching import ScriptBatcher
from gateway import queue_metrics as metrics
from gateway.auth import client_of, require_user, require_user_id
from gateway.bodies import StrictBody, read_json
from gateway.context import QueueRuntime, queue_runtime, services_of
from gateway.disconnects import count_disconnect
from gateway.fast_json import FastJSONResponse
from gateway.join_guard import GuardConfigs, JoinAttempt, guard_join
from gateway.metric_children import child
from gateway.openapi import documented
from gateway.problems import Problem
from gateway.queue_hub import QueueHub, Subscriber, close_quietly, running_hub
from gateway.queue_messages import fan_json, message_text, pass_fields, retry_after_s
from gateway.queue_page import drop_page
from gateway.schemas import queue as schemas
from gateway.schemas.catalog import Drop
from gateway.serialize import drop_json
from gateway.socket_auth import accepted_subprotocol, socket_fan_id
from gateway.url_credentials import refuse_url_credentials
from queue_engine import challenges, waiting_room
from queue_engine.credentials import CredentialSigner
from queue_engine.errors import NotVisible
from queue_engine.line import leave_line, read_fans
from queue_engine.waiting_room import CheckVerified, fan_view

log = logging.getLogger("ticketq.queue")

Pace = Annotated[int, Field(ge=1, le=1_000_000)]
Payload = Annotated[str, Field(min_length=1, max_length=challenges.MAX_PAYLOAD_CHARS)]


class PacingBody(StrictBody):
    admit_per_minute: Pace | None = None
    max_active: Pace | None = None
    requires_verified_email: bool | None = None

    @model_validator(mode="after")
    def something_to_change(self) -> PacingBody:
        if (self.admit_per_minute is None and self.max_active is None
                and self.requires_verified_email is None):
            raise ValueError("send admit_per_minute, max_active and/or requires_verified_email")
        return self


class JoinBody(StrictBody):
    # The altcha payload (base64) of a solved GET /api/drops/{id}/challenge; needed for
    # a new place in a drop with a challenge, never to re-join a place you hold.
    challenge: Payload | None = None


async def _join_body(request: Request) -> JoinBody:
    """The join's optional body: none at all (the original contract, with or without a
    Content-Type) is an empty one."""
    headers = request.headers
    if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return JoinBody()
    return await read_json(request, JoinBody)


def _signer(conn: Request | WebSocket) -> CredentialSigner:
    return CredentialSigner(services_of(conn).settings.secret_key)


def _hub(conn: Request | WebSocket) -> QueueHub:
    hub: QueueHub = queue_runtime(conn).hub
    return hub


def _now_ms(conn: Request | WebSocket) -> int:
    return to_ms(services_of(conn).clock())


def _verified_email_check(request: Request, fan_id: int) -> CheckVerified:
    """For drops that take verified emails only: one account read, a 403 naming where the
    link went if unverified. Asked by the guards (before a challenge is spent) or by
    join_line, whichever comes first; the second ask costs nothing. Other drops never call it."""
    vouched = False

    async def check() -> None:
        nonlocal vouched
        if vouched:
            return
        async with services_of(request).sessionmaker() as session:
            await require_verified(session, fan_id, wants="join this drop")
        vouched = True

    return check


@documented(body=JoinBody, response=schemas.QueuePlace, auth="user", status=201, also=[200])
async def join_queue(request: Request) -> Response:
    """Join a drop's line: 201 with a new place, 200 with the place you already hold.

    A new place in a drop with `challenge_difficulty` > 0 needs `{"challenge": ...}`, a
    solved GET /api/drops/{id}/challenge (used once); new places per address and network
    are limited per drop (429 with Retry-After). Returns {queue_ticket, state, position,
    ahead, estimated_wait_s}. The socket, the poll and the leave take your session;
    `queue_ticket` is kept for old clients only."""
    # The herd's hot path (issue 15, docs/performance.md): the session read and the join
    # script share pipelines with the other joins (the batcher), the services are looked
    # up once, and the answer is rendered by orjson.
    started = time.perf_counter()
    services, runtime = services_of(request), queue_runtime(request)
    fan_id = await require_user_id(request, batcher=runtime.batcher)
    drop_id: int = request.path_params["drop_id"]
    logs.bind(fan_id=fan_id, drop_id=drop_id)
    sent = await _join_body(request)
    now_ms = to_ms(services.clock())
    check_verified = _verified_email_check(request, fan_id)
    await guard_join(await runtime.guards.get(drop_id), services.settings, services.redis,
                     runtime.batcher, JoinAttempt(drop_id=drop_id, fan_id=fan_id,
                                                  client=client_of(request),
                                                  challenge=sent.challenge, now_ms=now_ms),
                     vouch=check_verified)
    place = await waiting_room.join(services.redis, services.scripts, runtime.load_config,
                                    drop_id, fan_id, now_ms=now_ms, runner=runtime.batcher,
                                    check_verified=check_verified)
    status = await runtime.hub.status(drop_id, now_ms)
    view = fan_view(status, place.state, place.ahead, pass_id=place.pass_id,
                    pass_expires_ms=place.pass_expires_ms)
    if view is None:  # cannot happen for a place just returned; never a 500 if it does
        raise Problem(409, "your place could not be read; try again")
    signer = runtime.hub.signer
    passes = pass_fields(signer, view, drop_id=drop_id, fan_id=fan_id)
    body = fan_json(view, now_ms=now_ms, passes=passes,
                    queue_ticket=signer.queue_ticket(fan_id, drop_id))
    child(metrics.JOIN_SECONDS, str(drop_id)).observe(time.perf_counter() - started)
    # Debug: the join is the herd's hot path (one line per fan at ~6k joins/s a process
    # would cost more than the join itself); the fan is followed from the hold on.
    log.debug("joined the line (%s)", "new place" if place.created else "same place")
    return FastJSONResponse(body, status_code=201 if place.created else 200)


@documented(response=schemas.JoinChallenge, auth="user")
async def join_challenge(request: Request) -> Response:
    """A proof-of-work challenge (altcha v2 JSON) for joining this drop, for you only,
    expiring in minutes: solve it (the altcha widget or library) and send the payload
    as `challenge` with the join. 404 when the drop asks none."""
    fan_id = await require_user_id(request)
    drop_id: int = request.path_params["drop_id"]
    services = services_of(request)
    config = await queue_runtime(request).guards.get(drop_id)
    if not config.visible:
        raise NotVisible("no such drop")
    if config.challenge_difficulty <= 0:
        raise Problem(404, "this drop asks no challenge; join without one", code="NoChallenge")
    issued = challenges.issue(challenges.challenge_keys(services.settings.secret_key),
                              drop_id=drop_id, fan_id=fan_id,
                              difficulty=config.challenge_difficulty, now_ms=_now_ms(request),
                              ttl_s=services.settings.challenge_ttl_seconds)
    return JSONResponse(issued, headers={"Cache-Control": "no-store"})


async def _polling_fan(request: Request) -> int:
    """The fan whose place this is: their own live session, never a URL credential."""
    refuse_url_credentials(request)
    return await require_user_id(request)


@documented(response=schemas.QueuePoll, auth="user")
async def poll_queue(request: Request) -> Response:
    """Where you stand (your own session; `?ticket=` is refused): the JSON fallback for
    clients without WebSockets. Includes the admission pass once admitted; Retry-After
    says when to ask again."""
    drop_id: int = request.path_params["drop_id"]
    fan_id = await _polling_fan(request)
    now_ms = _now_ms(request)
    scripts = services_of(request).scripts
    standing = await waiting_room.standing_of(scripts, drop_id, fan_id, now_ms=now_ms,
                                              mark_present=True)
    status = await _hub(request).status(drop_id, now_ms)
    view = fan_view(status, standing.state, standing.ahead, pass_id=standing.pass_id,
                    pass_expires_ms=standing.pass_expires_ms)
    if view is None:
        raise Problem(404, "you are not in this drop's line; join it first")
    signer = _signer(request)
    passes = pass_fields(signer, view, drop_id=drop_id, fan_id=fan_id)
    retry = retry_after_s(view)
    body = fan_json(view, now_ms=now_ms, passes=passes,
                    queue_ticket=signer.queue_ticket(fan_id, drop_id))
    body["retry_after_s"] = retry
    return FastJSONResponse(body, headers={"Retry-After": str(retry)})


@documented(response=schemas.LeftQueue, auth="user")
async def leave_queue(request: Request) -> Response:
    """Leave the line (your place is given up; joining again puts you at the back)."""
    drop_id: int = request.path_params["drop_id"]
    fan_id = await _polling_fan(request)
    removed = await leave_line(services_of(request).scripts, drop_id, [fan_id])
    return JSONResponse({"left": bool(removed.from_line or removed.from_prequeue)})


def close_code_of(exc: DomainError | Problem) -> int:
    """WebSocket close codes: 4xxx mirror the HTTP status of the refusal."""
    return 4000 + exc.status if isinstance(exc, Problem) else 4400


async def queue_socket(websocket: WebSocket) -> None:
    """Live position: a JSON message on connect, on every change, and at least every 2 s."""
    try:
        await websocket.accept(subprotocol=accepted_subprotocol(websocket))
        opened = await _open_subscription(websocket)
    except WebSocketDisconnect:
        # Gone during the handshake or before the first message: ordinary at a spike.
        count_disconnect("websocket", websocket.url.path, "WebSocketDisconnect")
        return
    if opened is None:
        return
    drop_id, subscriber = opened
    hub = _hub(websocket)
    hub.subscribe(drop_id, subscriber)
    try:
        # Fans send nothing we need; reading notices the disconnect.
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.unsubscribe(drop_id, subscriber)


async def _open_subscription(websocket: WebSocket) -> tuple[int, Subscriber] | None:
    """Check the origin and the fan's session, read the fan's place and send the first
    message; None once the socket is closed with the reason. Accepted first, then
    refused with a 4xxx close code, so that a client can read why. A coroutine of its
    own so that what the opening needed (readout, first message) is freed while the
    socket idles for minutes."""
    drop_id: int = websocket.path_params["drop_id"]
    try:
        refuse_url_credentials(websocket)
        fan_id = await socket_fan_id(websocket)
    except (DomainError, Problem) as exc:
        await close_quietly(websocket, close_code_of(exc), exc.detail)
        return None
    hub, now_ms = _hub(websocket), _now_ms(websocket)
    # Auto-pipelined: a reconnect storm shares round trips.
    readout = await read_fans(queue_runtime(websocket).batcher, drop_id, [fan_id],
                              now_ms=now_ms)
    subscriber = Subscriber(websocket=websocket, fan_id=fan_id)
    subscriber.rebase(readout.standings[0], readout.admitted_total, readout.departed_total)
    message = hub.message(drop_id, await hub.status(drop_id, now_ms), subscriber, now_ms)
    if message is None:
        await close_quietly(websocket, 4404, "you are not in this line; join it first")
        return None
    text = message_text(message)
    await websocket.send_text(text)
    subscriber.last_text, subscriber.last_sent = text, time.monotonic()
    subscriber.changed = False
    return drop_id, subscriber


@documented(response=schemas.QueueMessage,
            auth="user (cookie, bearer header or ticketq.bearer.<token> subprotocol)")
class QueueSocket:
    """`queue_socket` as a plain ASGI app. Starlette wraps a function endpoint in a second
    WebSocket object and a second layer of exception-handling closures, which every idle
    socket keeps (~1.5 KiB); ExceptionMiddleware around the router already does both once,
    with the same handlers."""

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not `async def`: returning the handler's coroutine keeps no frame of our own.
        return queue_socket(WebSocket(scope, receive, send))


async def _change_state(request: Request, action: str) -> Response:
    user = await require_user(request)
    drop_id: int = request.path_params["drop_id"]
    services = services_of(request)
    drop = await controls.change_state(services.redis, services.sessionmaker, user, drop_id, action)
    return JSONResponse(drop_json(drop, services.clock()))


@documented(response=Drop, auth="venue_admin")
async def pause_drop(request: Request) -> Response:
    """Pause admission (the line keeps its order; fans may still join)."""
    return await _change_state(request, "pause")


@documented(response=Drop, auth="venue_admin")
async def resume_drop(request: Request) -> Response:
    """Resume admission after a pause."""
    return await _change_state(request, "resume")


@documented(response=Drop, auth="venue_admin")
async def close_drop(request: Request) -> Response:
    """Close the drop: no more joins or admissions."""
    return await _change_state(request, "close")


@documented(body=PacingBody, response=Drop, auth="venue_admin")
async def change_pacing(request: Request) -> Response:
    """Change admit_per_minute, max_active and/or requires_verified_email (only accounts
    with a verified email may join); effective on the next admission tick / join."""
    user = await require_user(request)
    drop_id: int = request.path_params["drop_id"]
    body = await read_json(request, PacingBody)
    services = services_of(request)
    drop = await controls.change_pacing(services.redis, services.sessionmaker, user, drop_id,
                                        admit_per_minute=body.admit_per_minute,
                                        max_active=body.max_active,
                                        requires_verified_email=body.requires_verified_email)
    return JSONResponse(drop_json(drop, services.clock()))


@documented(response=schemas.PassRevoked, auth="venue_admin")
async def revoke_fan_pass(request: Request) -> Response:
    """Revoke a fan's admission pass; it stops working at once."""
    user = await require_user(request)
    drop_id, fan_id = request.path_params["drop_id"], request.path_params["fan_id"]
    services = services_of(request)
    revoked = await controls.revoke_fan_pass(services.scripts, services.sessionmaker, user, drop_id,
                                             fan_id, now_ms=_now_ms(request))
    return JSONResponse({"revoked": revoked})


@contextlib.asynccontextmanager
async def queue_runtime_lifespan(services: Services) -> AsyncIterator[QueueRuntime]:
    """The process's position hub (one read per drop per tick) and the herd's batcher."""
    settings = services.settings
    hub = QueueHub(services.scripts, CredentialSigner(settings.secret_key), services.clock,
                   interval_s=settings.admission_tick_ms / 2000,
                   heartbeat_s=max(1.0, settings.queue_grace_seconds / 4))
    batcher = ScriptBatcher(services.scripts)
    async with running_hub(hub):
        load_config = config_loader(services.sessionmaker)
        try:
            yield QueueRuntime(hub=hub, batcher=batcher,
                               guards=GuardConfigs(services.redis, load_config),
                               load_config=load_config)
        finally:
            await batcher.aclose()

# Also served past the app's layers by gateway.socket_lane (gateway/asgi.py).
SOCKET_ROUTE = WebSocketRoute("/ws/drops/{drop_id:id}/queue", QueueSocket())
# Also served past the app's layers by gateway.join_lane (gateway/app.py).
JOIN_ROUTE = Route("/api/drops/{drop_id:id}/queue", join_queue, methods=["POST"])

routes: list[BaseRoute] = [
    JOIN_ROUTE,
    Route("/api/drops/{drop_id:id}/challenge", join_challenge, methods=["GET"]),
    Route("/api/drops/{drop_id:id}/queue", poll_queue, methods=["GET"], name="poll_queue"),
    Route("/api/drops/{drop_id:id}/queue", leave_queue, methods=["DELETE"], name="leave_queue"),
    Route("/api/drops/{drop_id:id}/pause", pause_drop, methods=["POST"]),
    Route("/api/drops/{drop_id:id}/resume", resume_drop, methods=["POST"]),
    Route("/api/drops/{drop_id:id}/close", close_drop, methods=["POST"]),
    Route("/api/drops/{drop_id:id}", change_pacing, methods=["PATCH"]),
    Route("/api/drops/{drop_id:id}/passes/{fan_id:id}/revoke", revoke_fan_pass, methods=["POST"]),
    SOCKET_ROUTE,
    Route("/drops/{drop_id:id}", drop_page, methods=["GET"]),
]

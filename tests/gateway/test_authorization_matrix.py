"""Every route of the gateway's route table, called as each of the seven roles.

RULES says, per route, who gets through and what everyone else gets (the vocabulary is in
tests/support/access_rules.py); the test calls each
route once per role with real ids of a seeded sale (tests/support/roles.py) and the
smallest valid body, and compares the class of each answer. A route of `all_routes()`
missing from RULES fails the test, so a new route cannot ship without a rule.

Answer classes: OK (2xx), PASS (authorisation let it through and a business rule
answered: any 2xx or 4xx but 401/403/404), LOGIN (a page's redirect to sign in),
401, 403, 404. No answer may be a 5xx.

Adding a route: one line in RULES, e.g.
    "GET /api/things/{thing_id}": venue_staff(),
(and, if it takes a new kind of path id, its value in `path_values`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route, WebSocketRoute

from core.clock import to_ms
from core.settings import Settings
from gateway.app import all_routes
from gateway.context import app_services
from tests.purchase.passes import grant_pass
from tests.support.access_rules import (
    LOGIN,
    PASS,
    Rule,
    answer_class,
    matches,
    owner,
    page,
    public,
    signed_in,
    venue_managers,
    venue_staff,
)
from tests.support.apps import api_client, running_app
from tests.support.roles import ANONYMOUS, PASSWORD, ROLES, RoleWorld, seed_world, sign_in

pytestmark = pytest.mark.slow

A_FANS_EMAIL = "<other_fan's email>"  # filled in by body_for
A_TICKET_CODE = "<the fan's ticket's live code>"  # fetched by `call`
NOW = datetime.now(UTC)
LATER = (NOW + timedelta(days=40)).isoformat()
LATER_END = (NOW + timedelta(days=40, hours=3)).isoformat()
# A real ticket's live code and no event id: the ticket itself says whose door it is.
SCAN = {"payload": A_TICKET_CODE, "gate": "A", "device_id": "matrix-device",
        "nonce": "matrix-nonce-1"}

# Order matters: routes run top to bottom, each as every role (the ticket's fan last), so
# changes that would spoil later calls (cancel, close, sign-out) come at the end.
RULES: dict[str, Rule] = {
    # ops and documentation
    "GET /healthz": public(),
    "GET /metrics": public(),
    "GET /openapi.json": public(),
    "GET /dev/mail.json": public(),
    "GET /dev/mail": page(),
    # pages (HTML); the data they show comes from the API routes below
    "GET /": page(),
    "GET /login": page(),
    "GET /venue": page(),
    "GET /drops/{drop_id}": page(),
    "GET /drops/{drop_id}/buy": page(),
    # the sale's drop is direct: its lottery pages answer "not a lottery" once allowed
    "GET /drops/{drop_id}/lottery": page(404),
    "GET /venue/drops/{drop_id}": page(),
    "GET /venue/drops/{drop_id}/lottery": venue_managers(404),
    "GET /me/orders": page(),
    "GET /me/tickets": page(),
    "GET /scan": page(),
    "GET /scan/sw.js": page(),
    "WEBSOCKET /ws/drops/{drop_id}/queue": public(
        skip="a WebSocket: tests/gateway/test_ws_protocol.py refuses foreign queue tickets"),
    # catalogue, readable by anyone
    "GET /api/events": public(),
    "GET /api/events/{event_id}": public(),
    "GET /api/drops/{drop_id}": public(),
    "GET /api/drops/{drop_id}/lottery": public(PASS),
    "GET /api/drops/{drop_id}/draw": public(PASS),
    # the signed-in caller's own things
    "GET /api/me": signed_in(),
    "GET /api/me/sessions": signed_in(),
    "GET /api/me/venues": signed_in(),
    "GET /api/me/orders": signed_in(),
    "GET /api/me/tickets": signed_in(),
    "GET /api/me/entries": signed_in(),
    "GET /api/orders/{order_id}": owner(),
    "GET /api/me/tickets/{ticket_id}/code": owner(),
    # the waiting room: any signed-in fan
    "POST /api/drops/{drop_id}/queue": signed_in(),
    "GET /api/drops/{drop_id}/queue": signed_in(PASS),
    "DELETE /api/drops/{drop_id}/queue": signed_in(PASS),
    # buying: the pass holder's hold
    "POST /api/drops/{drop_id}/holds": Rule(
        ("fan",), PASS, body={"items": [{"tier_id": 0, "quantity": 1}]}),
    "POST /api/holds/{hold_id}/checkout": owner(PASS, body={"payment_method": "pm_card_visa"}),
    "DELETE /api/holds/{hold_id}": owner(PASS),
    "POST /api/drops/{drop_id}/entries": signed_in(
        PASS, body={"tier_id": 0, "quantity": 1, "payment_method": "pm_card_visa"}),
    # the door: the venue's scanners and admins
    "GET /api/scanner/events": signed_in(),
    "POST /api/scan": venue_staff(PASS, body=SCAN),
    "GET /api/events/{event_id}/scanner-bundle": venue_staff(),
    "POST /api/events/{event_id}/offline-scans": venue_staff(PASS, body={
        "device_id": "matrix-device",
        "scans": [{**{k: SCAN[k] for k in ("payload", "gate", "nonce")},
                   "scanned_at": NOW.isoformat()}]}),
    # the venue's admins
    "GET /api/drops/{drop_id}/stats": venue_managers(),
    "GET /api/drops/{drop_id}/lottery/progress": venue_managers(PASS),
    "GET /api/events/{event_id}/sales": venue_managers(),
    "GET /api/events/{event_id}/scan-conflicts": venue_managers(),
    "POST /api/venues/{venue_id}/staff": venue_managers(
        body={"email": "nobody-matrix@example.test", "role": "scanner"}),
    "POST /api/events": venue_managers(body={
        "venue_id": 0, "title": "Matrix show", "starts_at": LATER, "ends_at": LATER_END}),
    "POST /api/events/{event_id}/tiers": venue_managers(PASS, body={  # 2nd: same name, 409
        "name": "Matrix", "price_cents": 100, "currency": "EUR", "capacity": 1,
        "per_fan_limit": 1}),
    "POST /api/events/{event_id}/publish": venue_managers(PASS),
    "POST /api/drops": venue_managers(body={
        "event_id": 0, "mode": "direct", "prequeue_opens_at": LATER, "opens_at": LATER,
        "closes_at": LATER_END, "admit_per_minute": 10, "max_active": 10,
        "session_seconds": 600}),
    "PATCH /api/drops/{drop_id}": venue_managers(body={"max_active": 50}),
    "PUT /api/drops/{drop_id}/lottery": venue_managers(PASS, body={
        "draw_at": LATER, "max_quantity_per_entry": 1}),
    "POST /api/drops/{drop_id}/passes/{fan_id}/revoke": venue_managers(PASS),
    "POST /api/events/{event_id}/scanner-keys/rotate": venue_managers(body={}),
    "POST /api/tickets/{ticket_id}/reissue": venue_managers(PASS),
    "POST /api/drops/{drop_id}/pause": venue_managers(PASS),
    "POST /api/drops/{drop_id}/resume": venue_managers(PASS),
    "POST /api/drops/{drop_id}/close": venue_managers(PASS),
    "POST /api/events/{event_id}/cancel": venue_managers(PASS, body={"reason": "matrix"}),
    "GET /api/events/{event_id}/cancellation": venue_managers(),
    # anyone, no credential needed (Stripe signs its webhooks; sign-up answers alike)
    "POST /webhooks/stripe": public(PASS, body={}),
    "POST /api/auth/signup": public(body={
        "email": "matrix-signup@example.test", "password": PASSWORD, "name": "M"}),
    "POST /api/auth/login": public(body={"email": A_FANS_EMAIL, "password": PASSWORD}),
    # creating a venue makes the creator its admin: late, so it changes no earlier call
    "POST /api/venues": signed_in(body={"name": "Matrix venue", "city": "Lyon",
                                        "timezone": "Europe/Paris"}),
    # password reset and the account's own data (gateway/password_reset_api.py,
    # gateway/account_data_api.py): asking answers alike (429 past the address's limit)
    "POST /api/auth/password-reset": public(PASS, body={"email": A_FANS_EMAIL}),
    "POST /api/auth/password-reset/confirm": public(PASS, body={"token": "matrix",
                                                                "password": PASSWORD}),
    "GET /reset": page(),
    "GET /account": signed_in(anonymous=LOGIN),
    "GET /api/me/export": signed_in(),
    # a wrong password: every signed-in caller reaches the check, nobody is deleted
    "DELETE /api/me": signed_in(403, body={"password": "not the password"}),
    # ending sessions: each call signs in afresh (see `call`)
    "POST /api/auth/password": signed_in(body={"current_password": PASSWORD,
                                               "new_password": PASSWORD}),
    "POST /api/me/password": signed_in(body={"current_password": PASSWORD,
                                             "new_password": PASSWORD}),
    "DELETE /api/me/sessions/{session_id}": owner(),
    "POST /api/auth/logout": signed_in(PASS, anonymous=PASS),
    "POST /api/auth/logout-all": signed_in(),
}
FRESH_SESSION = {"POST /api/auth/password", "POST /api/me/password",
                 "DELETE /api/me/sessions/{session_id}", "POST /api/auth/logout",
                 "POST /api/auth/logout-all"}
# The owner of the fan's things goes last, so releasing its hold spoils no one's call.
CALL_ORDER = (ANONYMOUS, "other_fan", "scanner", "other_venue_admin", "venue_admin", "admin",
              "fan")


def route_keys() -> list[str]:
    keys = []
    for route in all_routes():
        if isinstance(route, Mount):
            continue  # static files (/static, /static/vendor): public by design
        if isinstance(route, WebSocketRoute):
            keys.append(f"WEBSOCKET {route.path_format}")
        elif isinstance(route, Route):
            keys += [f"{method} {route.path_format}"
                     for method in sorted((route.methods or set()) - {"HEAD"})]
    return keys


def test_every_route_has_a_rule() -> None:
    missing = [key for key in route_keys() if key not in RULES]
    assert not missing, ("routes without an authorisation rule: add each to RULES in "
                         f"tests/gateway/test_authorization_matrix.py: {missing}")
    stale = [key for key in RULES if key not in route_keys()]
    assert not stale, f"RULES names routes that no longer exist: {stale}"


@dataclass
class Matrix:
    client: httpx.AsyncClient
    world: RoleWorld
    hold_id: str
    fan_pass: str


@pytest.fixture(scope="module")
async def matrix_app(settings: Settings, localstripe_url: str) -> AsyncIterator[Starlette]:
    paying = settings.replace(stripe_api_key="sk_test_matrix", stripe_api_base=localstripe_url,
                              stripe_webhook_secret="whsec_matrix")
    async with running_app(paying) as application:
        yield application


@pytest.fixture(scope="module")
async def matrix(matrix_app: Starlette) -> AsyncIterator[Matrix]:
    services = app_services(matrix_app)
    async with api_client(matrix_app, timeout=60, follow_redirects=False) as client:
        world = await seed_world(services.sessionmaker, client)
        fan = world.accounts["fan"]
        fan_pass, _ = await grant_pass(services.redis, services.settings.secret_key,
                                       world.drop_id, fan.id, now_ms=to_ms(services.clock()))
        hold = await client.post(f"/api/drops/{world.drop_id}/holds",
                                 headers={**fan.headers, "X-Admission-Pass": fan_pass},
                                 json={"items": [{"tier_id": world.tier_ids["GA"],
                                                  "quantity": 1}]})
        assert hold.status_code == 201, hold.text
        yield Matrix(client, world, hold.json()["hold_id"], fan_pass)


def path_values(matrix: Matrix, session_id: int) -> dict[str, object]:
    return {**matrix.world.path_ids(), "hold_id": matrix.hold_id, "session_id": session_id}


def body_for(matrix: Matrix, rule: Rule, code: str) -> dict[str, Any] | None:
    """The rule's body with the sale's real ids where it says 0, a real email and code."""
    if rule.body is None:
        return None
    ids = {"venue_id": matrix.world.venue_id, "event_id": matrix.world.event_id,
           "tier_id": matrix.world.tier_ids["GA"]}

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ids.get(k, v) if v == 0 and not isinstance(v, bool) else fill(v)
                    for k, v in value.items()}
        if value == A_FANS_EMAIL:
            return matrix.world.accounts["other_fan"].email
        if value == A_TICKET_CODE:
            return code
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    return dict(fill(rule.body))


async def live_code(matrix: Matrix) -> str:
    world = matrix.world
    response = await matrix.client.get(f"/api/me/tickets/{world.ticket_id}/code",
                                       headers=world.headers("fan"))
    assert response.status_code == 200, response.text
    payload: str = response.json()["payload"]
    return payload


async def call(matrix: Matrix, key: str, rule: Rule, role: str) -> httpx.Response:
    method, path_format = key.split(" ", 1)
    headers = matrix.world.headers(role)
    session_id = 1
    if key in FRESH_SESSION and role != ANONYMOUS:
        fresh = await sign_in(matrix.client, matrix.world.accounts[role].email)
        headers = fresh.headers
    if "{session_id}" in path_format:  # always a session of the fan's
        session_id = (await matrix.client.get(
            "/api/me/sessions", headers=(await sign_in(
                matrix.client, matrix.world.accounts["fan"].email)).headers)).json()[
            "sessions"][0]["id"]
    if method == "POST" and path_format == "/api/drops/{drop_id}/holds" and role != ANONYMOUS:
        headers = {**headers, "X-Admission-Pass": matrix.fan_pass}
    path = path_format.format(**path_values(matrix, session_id))
    code = await live_code(matrix) if A_TICKET_CODE in repr(rule.body) else ""
    body = body_for(matrix, rule, code)
    response = await matrix.client.request(method, path, headers=headers, json=body)
    matrix.client.cookies.clear()  # bearer tokens only: a kept sign-in cookie would need CSRF
    return response


async def test_each_route_answers_each_role_as_its_rule_says(matrix: Matrix) -> None:
    wrong = []
    calls = 0
    for key, rule in RULES.items():
        if rule.skip:
            continue
        for role in CALL_ORDER:
            response = await call(matrix, key, rule, role)
            calls += 1
            got, expected = answer_class(response), rule.expected(role)
            if response.status_code >= 500 or not matches(expected, got):
                wrong.append(f"{key} as {role}: expected {expected}, got "
                             f"{response.status_code} {response.text[:160]}")
    assert calls > 6 * 60
    assert not wrong, "\n".join(wrong)


def test_rules_name_only_known_roles() -> None:
    unknown = {key: (set(rule.allowed) | set(rule.answers)) - set(ROLES)
               for key, rule in RULES.items()}
    assert not {key: roles for key, roles in unknown.items() if roles}

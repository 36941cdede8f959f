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

from accounts.verification import VerifyTokens
from core.clock import to_ms
from core.models import User
from core.settings import Settings
from gateway.context import app_services
from tests.purchase.passes import grant_pass
from tests.support.access_rules import (
    LOGIN,
    MANAGERS,
    PASS,
    Rule,
    answer_class,
    fill_body,
    invitee,
    matches,
    owner,
    page,
    platform_admins,
    public,
    route_keys,
    signed_in,
    venue_managers,
    venue_staff,
)
from tests.support.api import solved_challenge
from tests.support.apps import api_client, running_app
from tests.support.roles import ANONYMOUS, PASSWORD, ROLES, RoleWorld, seed_world, sign_in

pytestmark = pytest.mark.slow

A_FANS_EMAIL = "<other_fan's email>"  # filled in by body_for
A_TICKET_CODE = "<the fan's ticket's live code>"  # fetched by `call`
A_VERIFY_TOKEN = "<other_fan's email verification token>"  # filled in by body_for
AN_INVITATION_TOKEN = "<other_fan's invitation's emailed token>"  # filled in by body_for
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
    "GET /venue/events/{event_id}": page(),
    "GET /venue/drops/{drop_id}/lottery": venue_managers(404),
    "GET /me/orders": page(),
    "GET /me/tickets": page(),
    "GET /account/security": page(),
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
    # two-factor authentication: nobody here has it, so codes are wrong (422, 409)
    "GET /api/me/totp": signed_in(),
    "POST /api/me/totp": signed_in(),
    "POST /api/me/totp/confirm": signed_in(PASS, body={"code": "000000"}),
    "POST /api/me/totp/disable": signed_in(PASS, body={"code": "000000"}),
    "GET /api/me/venues": signed_in(),
    "GET /api/me/orders": signed_in(),
    "GET /api/me/tickets": signed_in(),
    "GET /api/me/entries": signed_in(),
    "GET /api/orders/{order_id}": owner(),
    "GET /api/me/tickets/{ticket_id}/code": owner(),
    "GET /api/me/invitations": signed_in(),
    # the holder's tickets to print, also for the event venue's admins; hidden from others
    "GET /api/orders/{order_id}/tickets.pdf": Rule(("fan", *MANAGERS), denied=404),
    # the waiting room: any signed-in fan
    "GET /api/drops/{drop_id}/challenge": signed_in(),
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
    # the fan's own entry; the sale's drop is no lottery, so nobody has one there
    "GET /api/drops/{drop_id}/entries/mine": signed_in(404),
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
    "GET /api/events/{event_id}/orders": venue_managers(),
    "GET /api/events/{event_id}/orders.csv": venue_managers(),
    "GET /api/events/{event_id}/attendees.csv": venue_managers(),
    "GET /api/events/{event_id}/audit": venue_managers(),
    "GET /api/venues/{venue_id}/invitations": venue_managers(),
    "GET /api/venues/{venue_id}/staff": venue_managers(),
    "PUT /api/events/{event_id}/door-codes": venue_managers(body={"static_codes_allowed": True}),
    # editing (catalog/edits.py): the tier's own name again changes nothing later calls see
    "PATCH /api/events/{event_id}": venue_managers(body={"description": "Matrix description"}),
    "GET /api/events/{event_id}/tiers": venue_managers(),
    # the event's picture (catalog/event_images.py): the matrix's JSON body is no image (415);
    # the seeded event has none, so fetching it is 404 for everyone, removing it a no-op
    "PUT /api/events/{event_id}/image": venue_managers(PASS, body={"not": "an image"}),
    "GET /api/events/{event_id}/image": public(404),
    "DELETE /api/events/{event_id}/image": venue_managers(),
    "PATCH /api/events/{event_id}/tiers/{tier_id}": venue_managers(body={"name": "GA"}),
    # the venue admin revokes it; the platform admin, after, is told it is gone
    "DELETE /api/venues/{venue_id}/invitations/{invitation_id}": venue_managers(
        answers={"admin": 410}),
    # {user_id} is the venue's last venue_admin: allowed callers get 409, nobody is removed
    "DELETE /api/venues/{venue_id}/staff/{user_id}": venue_managers(409),
    "PUT /api/venues/{venue_id}/security": venue_managers(body={"require_totp": False}),
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
    # the fan may see the order, not refund it (403); others may not even see it (404)
    "POST /api/orders/{order_id}/refund": Rule(MANAGERS, denied=404, answers={"fan": 403},
                                               body={"reason": "matrix"}),
    "POST /api/drops/{drop_id}/pause": venue_managers(PASS),
    "POST /api/drops/{drop_id}/resume": venue_managers(PASS),
    "POST /api/drops/{drop_id}/close": venue_managers(PASS),
    "POST /api/events/{event_id}/cancel": venue_managers(PASS, body={"reason": "matrix"}),
    "GET /api/events/{event_id}/cancellation": venue_managers(),
    # platform admins decide on venues; ours is approved already, so rejecting it is a 409
    "POST /api/venues/{venue_id}/approve": platform_admins(),
    "POST /api/venues/{venue_id}/reject": platform_admins(409),
    # the other fan's invitations (accepting makes them our scanner: after the door's rules)
    "POST /api/invitations/{invitation_id}/accept": invitee(body={"token": AN_INVITATION_TOKEN}),
    "POST /api/invitations/{invitation_id}/decline": invitee(),
    # anyone, no credential needed (Stripe signs its webhooks; sign-up answers alike)
    "POST /webhooks/stripe": public(PASS, body={}),
    "POST /api/auth/signup": public(body={
        "email": "matrix-signup@example.test", "password": PASSWORD, "name": "M"}),
    "POST /api/auth/login": public(body={"email": A_FANS_EMAIL, "password": PASSWORD}),
    "GET /verify-email": page(),
    # the token is the credential; the other fan's address is verified already (a no-op)
    "POST /api/auth/verify-email": public(body={"token": A_VERIFY_TOKEN}),
    "POST /api/auth/verify-email/resend": signed_in(),
    # no OpenID Connect provider is configured here (tests/gateway/test_oidc_api.py has one)
    "GET /api/auth/oidc/{provider}/start": public(404, body=None),
    "GET /api/auth/oidc/{provider}/callback": public(404, body=None),
    # a challenge nobody signed: 401 for everyone, signed in or not
    "POST /api/auth/login/totp": public(401, body={"challenge": "forged", "code": "000000"}),
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
    # the account page's changes (gateway/account_api.py): each caller's own account
    "PATCH /api/me": signed_in(body={"name": "Matrix Name"}),
    # PASS: 202, or 429 once a role's id (ids repeat across runs) asked in the hour
    "POST /api/me/email": signed_in(PASS, body={"new_email": "matrix-moved@example.test",
                                                "password": PASSWORD}),
    "POST /api/auth/email-change/confirm": public(401, body={"token": "forged"}),
    "GET /confirm-email": page(),
    # nobody in the seeded world linked a provider: 404 for each, after authorisation
    "DELETE /api/me/oidc/{provider}": signed_in(404),
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
    verify_token: str  # a real email verification token of the other fan's


@pytest.fixture(scope="module")
async def matrix_app(settings: Settings, localstripe_url: str) -> AsyncIterator[Starlette]:
    # Resend limits count per account id in Redis, which outlives a run's database: a run
    # within the hour of another (the fuzz) would meet its counts. The matrix tests who
    # gets through, not the limit (tests/gateway/test_verify_email_api.py does).
    paying = settings.replace(stripe_api_key="sk_test_matrix", stripe_api_base=localstripe_url,
                              stripe_webhook_secret="whsec_matrix", verify_resends_per_hour=1000)
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
        async with services.sessionmaker() as session:
            other_fan = await session.get(User, world.accounts["other_fan"].id)
        assert other_fan is not None
        verify_token = VerifyTokens.from_settings(services.settings).issue(other_fan)
        yield Matrix(client, world, hold.json()["hold_id"], fan_pass, verify_token)


def path_values(matrix: Matrix, session_id: int, path_format: str) -> dict[str, object]:
    invitations = matrix.world.invitation_ids  # each route its own pending invitation
    purpose = next((p for p in ("decline", "accept") if path_format.endswith(p)), "revoke")
    return {**matrix.world.path_ids(), "hold_id": matrix.hold_id, "session_id": session_id,
            "invitation_id": invitations[purpose], "provider": "google",
            "tier_id": matrix.world.tier_ids["GA"]}


def body_for(matrix: Matrix, rule: Rule, code: str) -> dict[str, Any] | None:
    """The rule's body with the sale's real ids where it says 0, and the placeholders'
    real values."""
    if rule.body is None:
        return None
    world = matrix.world
    ids = {"venue_id": world.venue_id, "event_id": world.event_id,
           "tier_id": world.tier_ids["GA"]}
    return fill_body(rule.body, ids, {
        A_FANS_EMAIL: world.accounts["other_fan"].email, A_TICKET_CODE: code,
        A_VERIFY_TOKEN: matrix.verify_token, AN_INVITATION_TOKEN: world.invitation_token})


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
    path = path_format.format(**path_values(matrix, session_id, path_format))
    code = await live_code(matrix) if A_TICKET_CODE in repr(rule.body) else ""
    body = body_for(matrix, rule, code)
    if key == "POST /api/drops/{drop_id}/queue" and role != ANONYMOUS:  # the drop asks one
        body = {"challenge": await solved_challenge(matrix.client, matrix.world.drop_id,
                                                    matrix.world.accounts[role])}
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

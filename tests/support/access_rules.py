"""The authorisation rules' vocabulary: who gets through a route, what the others get.

Used by tests/gateway/test_authorization_matrix.py, whose RULES table gives one Rule
per route. Answer classes: OK (2xx), PASS (authorisation let it through and a business
rule answered: any 2xx or 4xx but 401/403/404), LOGIN (a page's redirect to sign in),
or an exact 401, 403 or 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.routing import Mount, Route, WebSocketRoute

from gateway.app import all_routes
from tests.support.roles import ANONYMOUS, ROLES

OK, PASS, LOGIN = "2xx", "passes authorisation", "redirect to sign in"
Answer = str | int
STAFF = ("scanner", "venue_admin", "admin")
MANAGERS = ("venue_admin", "admin")


@dataclass(frozen=True)
class Rule:
    """Who gets `allowed`; everyone else gets `denied`, unless `answers` says otherwise."""

    allowed: tuple[str, ...]
    granted: Answer = OK  # what the allowed roles get
    denied: Answer = 403
    anonymous: Answer = 401
    answers: dict[str, Answer] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    skip: str = ""  # why this route is not called over HTTP here

    def expected(self, role: str) -> Answer:
        if role in self.answers:
            return self.answers[role]
        if role == ANONYMOUS:
            return self.granted if ANONYMOUS in self.allowed else self.anonymous
        return self.granted if role in self.allowed else self.denied


EVERYONE = (*ROLES,)
SIGNED_IN = tuple(role for role in ROLES if role != ANONYMOUS)


def public(granted: Answer = OK, **options: Any) -> Rule:
    return Rule(EVERYONE, granted, **options)


def signed_in(granted: Answer = OK, **options: Any) -> Rule:
    return Rule(SIGNED_IN, granted, **options)


def owner(granted: Answer = OK, **options: Any) -> Rule:
    """The fan's own hold, order, ticket or session: anyone else gets 404 (not even seen)."""
    return Rule(("fan",), granted, denied=404, **options)


def venue_staff(granted: Answer = OK, **options: Any) -> Rule:
    return Rule(STAFF, granted, **options)


def venue_managers(granted: Answer = OK, **options: Any) -> Rule:
    return Rule(MANAGERS, granted, **options)


def platform_admins(granted: Answer = OK, **options: Any) -> Rule:
    """Platform-wide decisions (approving venues): a venue's own admins get 403 too."""
    return Rule(("admin",), granted, **options)


def invitee(granted: Answer = OK, **options: Any) -> Rule:
    """The other fan's own invitation: anyone else, a platform admin too, gets 404."""
    return Rule(("other_fan",), granted, denied=404, **options)


def page(granted: Answer = OK) -> Rule:
    return public(granted, body=None)


def answer_class(response: httpx.Response) -> Answer:
    status = response.status_code
    if 200 <= status < 300:
        return OK
    if status in {302, 303, 307} and "/login" in response.headers.get("location", ""):
        return LOGIN
    return status


def matches(expected: Answer, got: Answer) -> bool:
    if expected == PASS:
        return got == OK or (isinstance(got, int) and 400 <= got < 500
                             and got not in {401, 403, 404})
    return expected == got


def route_keys() -> list[str]:
    """"METHOD /path" of every route of the gateway's route table (RULES' keys)."""
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


def fill_body(body: dict[str, Any], ids: dict[str, int], values: dict[str, Any]
              ) -> dict[str, Any]:
    """`body` with `ids[field]` for an id field that says 0, and `values[text]` for a
    placeholder text, at any depth."""

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ids.get(k, v) if v == 0 and not isinstance(v, bool) else fill(v)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        if isinstance(value, str):
            return values.get(value, value)
        return value

    return dict(fill(body))

"""One HTTP call helper for every simulated user: statuses the story expects are not failures.

A 409 "sold out" is the right answer for a late fan and a 403 is the right
answer for a bot, so those are marked successful in Locust's statistics; what
Locust then counts as failures are real errors (5xx, timeouts, surprises),
which the report lists by kind.
"""

from __future__ import annotations

import json
from typing import Any

import altcha
from locust.contrib.fasthttp import FastHttpSession

Body = dict[str, Any]


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
    """This account's join challenge for a drop, solved in Python with altcha's solver as a
    browser solves it (the payload to send as the join's `challenge`); None when the drop
    asks none or the gateway refused one."""
    status, body = call(client, "GET", f"/api/drops/{drop_id}/challenge", name=name,
                        expected=(404,), headers=headers)
    if status != 200:
        return None
    challenge = altcha.Challenge.from_dict(body)
    solution = altcha.solve_challenge(challenge, timeout=30.0)
    return None if solution is None else altcha.Payload(challenge, solution).to_base64()


def needs_challenge(status: int, body: Body) -> bool:
    return status == 422 and body.get("code") == "ChallengeRequired"

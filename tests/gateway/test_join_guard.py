"""Bot guards at join, against the whole gateway on real Redis and Postgres: the
proof-of-work challenge (solved with altcha's own solver, used once) and the per-drop
limits on new places per address and per network."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from core.redis_keys import DropKeys
from core.settings import Settings
from gateway.context import app_services
from gateway.join_guard import GuardConfigs
from queue_engine.drop_config import DropConfig, sync_config
from tests.support.api import Account, create_drop_setup, sign_up, solved_challenge
from tests.support.apps import running_app

DIFFICULTY = 2_000  # small: the tests solve many


async def solved(client: httpx.AsyncClient, drop_id: int, fan: Account) -> str:
    return await solved_challenge(client, drop_id, fan)


def join(client: httpx.AsyncClient, drop_id: int, fan: Account,
         challenge: str | None = None) -> Any:
    body = {"json": {"challenge": challenge}} if challenge is not None else {}
    return client.post(f"/api/drops/{drop_id}/queue", headers=fan.headers, **body)


def tampered(payload: str, change: Any) -> str:
    decoded = json.loads(base64.b64decode(payload))
    change(decoded)
    return base64.b64encode(json.dumps(decoded).encode()).decode()


async def test_a_new_place_needs_a_solved_challenge_and_a_reconnect_does_not(client):
    setup = await create_drop_setup(client, challenge_difficulty=DIFFICULTY)
    fan = await sign_up(client)
    refused = await join(client, setup.drop_id, fan)
    assert refused.status_code == 422 and refused.json()["code"] == "ChallengeRequired"
    assert refused.headers["content-type"].startswith("application/problem+json")
    joined = await join(client, setup.drop_id, fan, await solved(client, setup.drop_id, fan))
    assert joined.status_code == 201, joined.text
    again = await join(client, setup.drop_id, fan)  # a reconnect: no challenge needed
    assert again.status_code == 200 and again.json()["position"] == joined.json()["position"]


async def test_a_replayed_solution_is_refused(client):
    setup = await create_drop_setup(client, challenge_difficulty=DIFFICULTY)
    fan = await sign_up(client)
    payload = await solved(client, setup.drop_id, fan)
    assert (await join(client, setup.drop_id, fan, payload)).status_code == 201
    left = await client.delete(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    assert left.json() == {"left": True}
    replayed = await join(client, setup.drop_id, fan, payload)
    assert replayed.status_code == 409 and replayed.json()["code"] == "ChallengeReplayed"
    assert "already used" in replayed.json()["detail"]
    again = await join(client, setup.drop_id, fan)
    assert again.status_code == 422  # nothing was joined by the replay


async def test_forged_foreign_and_unsolved_solutions_are_refused(client):
    setup = await create_drop_setup(client, challenge_difficulty=DIFFICULTY)
    other_drop = await create_drop_setup(client, challenge_difficulty=DIFFICULTY)
    fan, other_fan = await sign_up(client), await sign_up(client)
    payload = await solved(client, setup.drop_id, fan)

    def claim_other_drop(d: dict[str, Any]) -> None:
        d["challenge"]["parameters"]["data"]["drop"] = str(other_drop.drop_id)

    def wrong_key(d: dict[str, Any]) -> None:
        d["solution"]["derivedKey"] = "00" * 32

    def unsigned(d: dict[str, Any]) -> None:
        del d["challenge"]["signature"]

    cases = [
        (other_drop.drop_id, fan, payload, 403, "ChallengeForeign"),  # another drop's
        (setup.drop_id, other_fan, payload, 403, "ChallengeForeign"),  # another fan's
        (other_drop.drop_id, fan, tampered(payload, claim_other_drop), 422, "ChallengeInvalid"),
        (setup.drop_id, fan, tampered(payload, wrong_key), 422, "ChallengeInvalid"),
        (setup.drop_id, fan, tampered(payload, unsigned), 422, "ChallengeInvalid"),
        (setup.drop_id, fan, "bm90IGpzb24=", 422, "ChallengeInvalid"),
        (setup.drop_id, fan, "%%%", 422, "ChallengeInvalid"),
    ]
    for drop_id, who, sent, status, code in cases:
        answer = await join(client, drop_id, who, sent)
        assert (answer.status_code, answer.json().get("code")) == (status, code), answer.text
    too_long = await join(client, setup.drop_id, fan, "A" * 5000)
    assert too_long.status_code == 422
    # None of that joined anyone, and the genuine solution still works once.
    assert (await join(client, setup.drop_id, fan, payload)).status_code == 201
    assert (await join(client, other_drop.drop_id, fan)).status_code == 422


async def test_the_challenge_endpoint(client):
    setup = await create_drop_setup(client, challenge_difficulty=DIFFICULTY)
    plain = await create_drop_setup(client)
    draft = await create_drop_setup(client, published=False, challenge_difficulty=DIFFICULTY)
    fan = await sign_up(client)
    url = f"/api/drops/{setup.drop_id}/challenge"
    assert (await client.get(url)).status_code == 401
    answer = await client.get(url, headers=fan.headers)
    assert answer.headers["cache-control"] == "no-store"
    issued = answer.json()
    assert issued["parameters"]["data"] == {"drop": str(setup.drop_id), "fan": str(fan.id)}
    assert issued["parameters"]["algorithm"] == "SHA-256" and issued["signature"]
    none = await client.get(f"/api/drops/{plain.drop_id}/challenge", headers=fan.headers)
    assert none.status_code == 404 and none.json()["code"] == "NoChallenge"
    assert (await join(client, plain.drop_id, fan)).status_code == 201  # no challenge to solve
    for hidden in (draft.drop_id, 999_999_999):
        assert (await client.get(f"/api/drops/{hidden}/challenge",
                                 headers=fan.headers)).status_code == 404


async def test_a_new_drop_asks_a_challenge_by_default(client):
    setup = await create_drop_setup(client)
    event = (await client.get(f"/api/drops/{setup.drop_id}")).json()
    assert event["challenge_difficulty"] == 0  # the test helper turns it off
    body = {"event_id": setup.event_id, "mode": "direct",
            "prequeue_opens_at": event["prequeue_opens_at"], "opens_at": event["opens_at"],
            "closes_at": event["closes_at"], "admit_per_minute": 60, "max_active": 10,
            "session_seconds": 300}
    made = await client.post("/api/drops", headers=setup.admin.headers, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["challenge_difficulty"] == 10_000
    assert (made.json()["join_limit_per_ip"], made.json()["join_limit_per_network"]) == (None, None)
    for bad in ({"challenge_difficulty": -1}, {"challenge_difficulty": 1_000_001},
                {"join_limit_per_ip": -1}, {"join_limit_per_network": "10"}):
        refused = await client.post("/api/drops", headers=setup.admin.headers,
                                    json={**body, **bad})
        assert refused.status_code == 422, refused.text


@pytest.fixture
async def unexempt_app(settings: Settings) -> AsyncIterator[Starlette]:
    """The gateway with no exempt networks and a platform default of 3 per address."""
    async with running_app(settings.replace(auth_limit_exempt_networks="",
                                            join_per_ip_per_drop=3)) as application:
        yield application


def client_from(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_new_places_per_address_are_limited_but_reconnects_are_not(client, unexempt_app):
    # Per the platform default (3): accounts are made through the exempt test client.
    setup = await create_drop_setup(client)
    fans = [await sign_up(client) for _ in range(5)]
    async with client_from(unexempt_app, "198.51.100.7") as farm:
        for fan in fans[:3]:
            joined = await join(farm, setup.drop_id, fan)
            assert joined.status_code == 201, joined.text
        limited = await join(farm, setup.drop_id, fans[3])
        assert limited.status_code == 429, limited.text
        assert 1 <= int(limited.headers["retry-after"]) <= 3600
        assert "too many new places" in limited.json()["detail"]
        assert (await join(farm, setup.drop_id, fans[0])).status_code == 200  # holds a place
    async with client_from(unexempt_app, "198.51.101.7") as elsewhere:
        assert (await join(elsewhere, setup.drop_id, fans[3])).status_code == 201
    # The same from the exempt address: no limit.
    other = await create_drop_setup(client, join_limits={"join_limit_per_ip": 1})
    for fan in fans:
        assert (await join(client, other.drop_id, fan)).status_code == 201


async def test_a_drops_own_limits_per_address_and_network(client, unexempt_app):
    setup = await create_drop_setup(client, join_limits={"join_limit_per_ip": 2,
                                                         "join_limit_per_network": 3})
    fans = [await sign_up(client) for _ in range(6)]
    async with client_from(unexempt_app, "203.0.113.10") as one:
        assert [(await join(one, setup.drop_id, fan)).status_code for fan in fans[:3]] == [
            201, 201, 429]
    async with client_from(unexempt_app, "203.0.113.11") as neighbour:  # the same /24
        assert (await join(neighbour, setup.drop_id, fans[2])).status_code == 201
        assert (await join(neighbour, setup.drop_id, fans[3])).status_code == 429
    async with client_from(unexempt_app, "2001:db8:1:ff::1") as v6, \
            client_from(unexempt_app, "2001:db8:1:ee::2") as v6_same_56:
        assert (await join(v6, setup.drop_id, fans[3])).status_code == 201
        assert (await join(v6_same_56, setup.drop_id, fans[4])).status_code == 201
        assert (await join(v6_same_56, setup.drop_id, fans[5])).status_code == 201
        blocked = await join(v6, setup.drop_id, await sign_up(client))
        assert blocked.status_code == 429  # the /56's fourth new place
    off = await create_drop_setup(client, join_limits={"join_limit_per_ip": 0,
                                                       "join_limit_per_network": 0})
    async with client_from(unexempt_app, "192.0.2.50") as unlimited:
        assert {(await join(unlimited, off.drop_id, fan)).status_code for fan in fans} == {201}


async def test_challenge_and_limits_together_cost_the_farm_both(client, unexempt_app):
    setup = await create_drop_setup(client, challenge_difficulty=DIFFICULTY,
                                    join_limits={"join_limit_per_ip": 1})
    first, second = await sign_up(client), await sign_up(client)
    async with client_from(unexempt_app, "198.51.100.99") as farm:
        assert (await join(farm, setup.drop_id, first,
                           await solved(farm, setup.drop_id, first))).status_code == 201
        assert (await join(farm, setup.drop_id, first)).status_code == 200
        limited = await join(farm, setup.drop_id, second, await solved(farm, setup.drop_id, second))
        assert limited.status_code == 429


async def test_guard_configs_share_one_read_sync_a_new_drop_and_refresh(app):
    services = app_services(app)
    drop_id = 900_000_000 + secrets.randbelow(99_999_999)  # only in Redis: never in Postgres
    loads: list[int] = []
    now = [0.0]

    def config(difficulty: int, per_ip: int | None) -> DropConfig:
        return DropConfig(drop_id=drop_id, prequeue_opens_at_ms=0, opens_at_ms=0,
                          closes_at_ms=1, admit_per_minute=1, max_active=1, session_seconds=60,
                          state="scheduled", visible=True, challenge_difficulty=difficulty,
                          join_limit_per_ip=per_ip, join_limit_per_network=0)

    async def load(asked: int) -> DropConfig:
        loads.append(asked)
        return config(7, None)

    configs = GuardConfigs(services.redis, load, clock=lambda: now[0])
    got = await asyncio.gather(*(configs.get(drop_id) for _ in range(50)))
    assert loads == [drop_id]  # not synced: loaded once, and synced
    assert {(g.challenge_difficulty, g.join_limit_per_ip, g.join_limit_per_network)
            for g in got} == {(7, None, 0)}
    await sync_config(services.redis, config(0, 5))  # as the worker's next sync would
    now[0] = 4.9
    assert (await configs.get(drop_id)).challenge_difficulty == 7
    now[0] = 5.0
    fresh = await configs.get(drop_id)
    assert (fresh.challenge_difficulty, fresh.join_limit_per_ip) == (0, 5)
    assert loads == [drop_id]  # read from the meta, not loaded again
    await services.redis.delete(DropKeys(drop_id).meta)

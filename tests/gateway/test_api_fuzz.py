"""Schemathesis against a live uvicorn gateway: every operation of its /openapi.json, as
every role, must answer without a 5xx and as the document says (status, media type, body).

Bounded: a few generated cases per operation, each sent once per role (70 operations,
about 2,400 requests, 90-140 s on a busy 2-core machine), no shrinking, and a time
budget after which no further operation is fuzzed (the test then fails, naming them),
so the run always stops by itself. It runs in the test run's own world
(TICKETQ_TEST_NAME: own Redis, own database) against a gateway on a loopback port, so
it changes nothing anyone else uses.
Run it alone with `-m fuzz`. schemathesis's pytest plugin is not used: its lazy
`from_fixture` schema sets `Function._nodeid`, which pytest 9.2 no longer has.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette

from gateway.context import app_services
from tests.support.api import unique_email
from tests.support.processes import RunningProcess, gateway_process, service_env
from tests.support.roles import PASSWORD, ROLES, RoleWorld, seed_world
from tests.support.services import TestServices as Services

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES_PER_OPERATION = 5
# Past it, operations are no longer fuzzed, and the test says so. 150 s until 2026-12-03;
# 70 operations then took 90-140 s on a shared 2-core machine, too close to it.
BUDGET_S = 200.0
REQUEST_TIMEOUT_S = 10

# These end the caller's sessions (or count wrong passwords against the account, which
# locks its sign-in): they run as a fresh throwaway account each time, and as anonymous.
SESSION_ENDING = {"POST /api/auth/logout", "POST /api/auth/logout-all",
                  "POST /api/auth/password", "DELETE /api/me/sessions/{session_id}"}


@pytest.fixture(scope="module")
def fuzz_gateway(services: Services, localstripe_url: str) -> Iterator[RunningProcess]:
    env = service_env(services.redis_url, services.database_url,
                      STRIPE_API_KEY="sk_test_fuzz", STRIPE_API_BASE=localstripe_url,
                      STRIPE_WEBHOOK_SECRET="whsec_fuzz")
    with gateway_process(env, services.folder / "logs") as proc:
        assert proc.url.startswith("http://127.0.0.1:"), proc.url  # loopback only
        yield proc


@pytest.fixture(scope="module")
async def fuzz_world(app: Starlette, fuzz_gateway: RunningProcess) -> RoleWorld:
    async with httpx.AsyncClient(base_url=fuzz_gateway.url, timeout=30) as client:
        return await seed_world(app_services(app).sessionmaker, client)


@pytest.fixture(scope="module")
def api_schema(fuzz_gateway: RunningProcess, fuzz_world: RoleWorld) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_gateway.url}/openapi.json",
                                         timeout=REQUEST_TIMEOUT_S)


def throwaway_headers(base_url: str) -> dict[str, str]:
    """A new account's bearer token: sign up, sign in (a real session to end)."""
    email = unique_email("burner")
    body = {"email": email, "password": PASSWORD, "name": "Burner"}
    assert requests.post(f"{base_url}/api/auth/signup", json=body,
                         timeout=REQUEST_TIMEOUT_S).status_code == 202
    login = requests.post(f"{base_url}/api/auth/login",
                          json={"email": email, "password": PASSWORD}, timeout=REQUEST_TIMEOUT_S)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


def fuzzed_operations(api_schema: Any) -> list[Any]:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # The WebSocket is documented as the GET that upgrades it; plain HTTP cannot speak it
    # (tests/gateway/test_ws_protocol.py drives it).
    return [op for op in operations if not op.definition.raw.get("x-websocket")]


def test_every_operation_as_every_role_answers_as_documented(
    api_schema: Any, fuzz_gateway: RunningProcess, fuzz_world: RoleWorld,
) -> None:
    ends_at, failures, skipped = time.monotonic() + BUDGET_S, [], []
    operations = fuzzed_operations(api_schema)
    assert len(operations) > 40, [op.label for op in operations]  # the document was read
    for operation in operations:
        if time.monotonic() > ends_at:
            skipped.append(operation.label)
            continue
        failures.extend(fuzz_operation(operation, fuzz_gateway.url, fuzz_world))
    assert not failures, "\n\n".join(failures)
    assert not skipped, f"over the {BUDGET_S} s budget, not fuzzed: {skipped}"
    # Every role was still itself at the end (no case signed a role's token out, which
    # would have turned the rest of its calls into 401s without anyone noticing).
    for role in ROLES[1:]:
        me = requests.get(f"{fuzz_gateway.url}/api/me", headers=fuzz_world.headers(role),
                          timeout=REQUEST_TIMEOUT_S)
        assert me.status_code == 200, (role, me.text)


def fuzz_operation(operation: Any, base_url: str, world: RoleWorld) -> list[str]:
    """Up to EXAMPLES_PER_OPERATION cases, valid and invalid, each sent as every caller,
    about half of them with the seeded sale's real ids in the path; the failures found
    (one per operation, unshrunk: the case is printed as sent)."""
    found: list[str] = []
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy, real_ids=st.booleans())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              derandomize=True, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    def run(case: Any, real_ids: bool) -> None:
        if found:
            return
        if real_ids and case.path_parameters:  # reach the handlers' work, not only their 404s
            real = world.path_ids()
            case.path_parameters = {name: real.get(name, value)
                                    for name, value in case.path_parameters.items()}
        for role, headers in callers(operation.label, base_url, world):
            response = case.call(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S)
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as failure:  # a FailureGroup
                found.append(f"{operation.label} as {role}: {failure}")
                return

    run()
    return found


def callers(label: str, base_url: str, world: RoleWorld) -> list[tuple[str, dict[str, str]]]:
    if label in SESSION_ENDING:
        return [("anonymous", {}), ("throwaway", throwaway_headers(base_url))]
    return [(role, world.headers(role)) for role in ROLES]

"""The CSRF guard: cookie-authenticated state changes must come from our own pages.

The attacker is another origin of the same site (another port), which SameSite=Lax
does not stop: its form POST carries the fan's or the venue's session cookie.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from core.clock import to_ms, utcnow
from gateway.context import app_services
from gateway.csrf import TOKEN_LENGTH
from queue_engine.passes import admit_batch
from tests.scanner.factory import issue, make_door
from tests.support.api import Account, create_drop_setup, sign_up

OWN_ORIGIN = "http://testserver"
OTHER_PORT = "http://testserver:8001"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def cookie_session(client: httpx.AsyncClient, account: Account) -> str:
    """Sign in as a browser does (session cookie only); returns the CSRF token cookie."""
    client.cookies.clear()
    signed_in = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert signed_in.status_code == 200, signed_in.text
    return client.cookies["tq_csrf"]


def from_our_page(token: str) -> dict[str, str]:
    return {"Origin": OWN_ORIGIN, "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": token}


def attacks(token: str) -> list[dict[str, str]]:
    """What a page on another port can make a browser send (it never knows the token,
    but the guard must not rely on that alone), and what older browsers send."""
    return [
        {**FORM, "Origin": OTHER_PORT, "Sec-Fetch-Site": "same-site"},
        {**FORM, "Origin": OTHER_PORT},  # no fetch metadata
        {**FORM, "Referer": f"{OTHER_PORT}/attack.html"},  # no Origin either
        {**FORM},  # neither: refused rather than guessed
        {**FORM, "Origin": OTHER_PORT, "Sec-Fetch-Site": "same-site", "X-CSRF-Token": token},
        {"Origin": OWN_ORIGIN, "Sec-Fetch-Site": "same-origin"},  # our origin, no token
        {"Origin": OWN_ORIGIN, "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": "x" * 43},
        {"Referer": f"{OWN_ORIGIN}/venue", "X-CSRF-Token": "x" * 43},
    ]


async def refused_then_allowed(
    client: httpx.AsyncClient,
    account: Account,
    method: str,
    url: str,
    *,
    unchanged: Callable[[], Awaitable[None]],
    allowed: int,
) -> httpx.Response:
    token = await cookie_session(client, account)
    for headers in attacks(token):
        refused = await client.request(method, url, headers=headers)
        assert refused.status_code == 403, (headers, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"]
        await unchanged()
    response = await client.request(method, url, headers=from_our_page(token))
    assert response.status_code == allowed, response.text
    return response


async def drop_state(client: httpx.AsyncClient, drop_id: int, admin: Account) -> str:
    drop = await client.get(f"/api/drops/{drop_id}", headers=admin.headers)
    state: str = drop.json()["state"]
    return state


@pytest.mark.parametrize("action", ["pause", "close"])
async def test_pause_and_close(client: httpx.AsyncClient, action: str) -> None:
    setup = await create_drop_setup(client)
    before = await drop_state(client, setup.drop_id, setup.admin)

    async def unchanged() -> None:
        assert await drop_state(client, setup.drop_id, setup.admin) == before

    await refused_then_allowed(client, setup.admin, "POST", f"/api/drops/{setup.drop_id}/{action}",
                               unchanged=unchanged, allowed=200)
    assert await drop_state(client, setup.drop_id, setup.admin) != before


async def test_resume(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    paused = await client.post(f"/api/drops/{setup.drop_id}/pause", headers=setup.admin.headers)
    assert paused.status_code == 200

    async def unchanged() -> None:
        assert await drop_state(client, setup.drop_id, setup.admin) == "paused"

    await refused_then_allowed(client, setup.admin, "POST", f"/api/drops/{setup.drop_id}/resume",
                               unchanged=unchanged, allowed=200)
    assert await drop_state(client, setup.drop_id, setup.admin) != "paused"


async def test_publish(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client, published=False)

    async def status() -> str:
        event = await client.get(f"/api/events/{setup.event_id}", headers=setup.admin.headers)
        value: str = event.json()["status"]
        return value

    draft = await status()

    async def unchanged() -> None:
        assert await status() == draft

    await refused_then_allowed(client, setup.admin, "POST",
                               f"/api/events/{setup.event_id}/publish",
                               unchanged=unchanged, allowed=200)
    assert await status() != draft


async def test_revoke_pass(client: httpx.AsyncClient, app: Starlette) -> None:
    setup = await create_drop_setup(client)
    fan = await sign_up(client)
    await client.post(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
    await admit_batch(app_services(app).scripts, setup.drop_id, now_ms=to_ms(utcnow()) + 1000)

    async def fan_state() -> str:
        polled = await client.get(f"/api/drops/{setup.drop_id}/queue", headers=fan.headers)
        state: str = polled.json()["state"]
        return state

    async def unchanged() -> None:
        assert await fan_state() == "admitted"

    await unchanged()
    answer = await refused_then_allowed(
        client, setup.admin, "POST", f"/api/drops/{setup.drop_id}/passes/{fan.id}/revoke",
        unchanged=unchanged, allowed=200,
    )
    assert answer.json() == {"revoked": True} and await fan_state() == "expired"


async def test_reissue_ticket(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    door = await make_door(client)
    [ticket_id] = await issue(sessionmaker, door)

    async def unchanged() -> None:
        code = await client.get(f"/api/me/tickets/{ticket_id}/code", headers=door.fan.headers)
        assert code.status_code == 200, code.text

    await refused_then_allowed(client, door.setup.admin, "POST",
                               f"/api/tickets/{ticket_id}/reissue",
                               unchanged=unchanged, allowed=201)
    gone = await client.get(f"/api/me/tickets/{ticket_id}/code", headers=door.fan.headers)
    assert gone.status_code != 200


async def test_join_the_queue(client: httpx.AsyncClient) -> None:
    setup = await create_drop_setup(client)
    fan, other = await sign_up(client), await sign_up(client)
    url = f"/api/drops/{setup.drop_id}/queue"

    async def unchanged() -> None:
        # Had the fan joined, the other fan would be second in line, not first.
        joined = await client.post(url, headers=other.headers)
        assert joined.json()["position"] == 1, joined.text
        left = await client.delete(url, headers=other.headers)
        assert left.status_code < 300, left.text

    await refused_then_allowed(client, fan, "POST", url, unchanged=unchanged, allowed=201)


async def test_bearer_clients_and_cookie_less_requests_are_not_checked(
    client: httpx.AsyncClient,
) -> None:
    setup = await create_drop_setup(client)
    await cookie_session(client, setup.admin)
    # A browser never adds an Authorization header by itself; with one, the cookie is unused.
    paused = await client.post(f"/api/drops/{setup.drop_id}/pause",
                               headers={**setup.admin.headers, "Origin": OTHER_PORT})
    assert paused.status_code == 200, paused.text
    client.cookies.clear()
    # No session cookie (sign-in, Stripe's webhooks): nothing for a forged request to ride on.
    webhook = await client.post("/webhooks/stripe", content=b"{}",
                                headers={"Origin": OTHER_PORT, "Content-Type": "application/json"})
    assert webhook.status_code != 403, webhook.text


async def test_the_token_cookie_is_set_on_page_loads_and_renewed_at_sign_in(
    client: httpx.AsyncClient,
) -> None:
    client.cookies.clear()
    page = await client.get("/login")
    set_cookie = page.headers["set-cookie"]
    assert set_cookie.startswith("tq_csrf=") and "SameSite=Strict" in set_cookie
    assert "HttpOnly" not in set_cookie and "Max-Age=" in set_cookie
    first = client.cookies["tq_csrf"]
    assert len(first) == TOKEN_LENGTH
    again = await client.get("/")
    assert "tq_csrf" not in again.headers.get("set-cookie", "")  # kept while valid
    assert "set-cookie" not in (await client.get("/static/app.css")).headers
    fan = await sign_up(client)
    assert await cookie_session(client, fan) != first

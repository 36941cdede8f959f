"""Sign in with an OpenID Connect provider, against a real local provider (node-oidc-provider):
the start redirect, a full sign-in, linking by verified email, and the attacks refused
(wrong state, a callback from another browser, a reused callback, a code minted for
another nonce, an unverified email naming someone's account), each changing nothing."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from core.models import OidcIdentity, User
from core.settings import Settings
from gateway.context import app_services
from gateway.oidc_api import FLOW_COOKIE
from tests.support import services as test_services
from tests.support.api import sign_up, unique_email
from tests.support.apps import api_client, running_app
from tests.support.oidc import OidcProvider, oidc_provider_process, sign_in_at_provider

CALLBACK = "http://testserver/api/auth/oidc/google/callback"


@pytest.fixture(scope="module")
def provider(services: test_services.TestServices) -> Iterator[OidcProvider]:
    with oidc_provider_process(services.folder / "logs", redirect_uris=[CALLBACK]) as running:
        yield running


@pytest.fixture(scope="module")
async def oidc_app(settings: Settings, provider: OidcProvider) -> AsyncIterator[Starlette]:
    async with running_app(provider.configure(settings)) as application:
        yield application


@pytest.fixture
async def browser(oidc_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """One browser's cookie jar; redirects are looked at, not followed."""
    async with api_client(oidc_app, follow_redirects=False) as http:
        yield http


async def _start(browser: httpx.AsyncClient, next_path: str = "/") -> str:
    started = await browser.get("/api/auth/oidc/google/start", params={"next": next_path})
    assert started.status_code == 302, started.text
    return started.headers["location"]


async def _callback(browser: httpx.AsyncClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK, url
    return await browser.get(f"{parts.path}?{parts.query}")


async def _me(browser: httpx.AsyncClient) -> dict[str, object]:
    me = await browser.get("/api/me")
    assert me.status_code == 200, me.text
    body: dict[str, object] = me.json()
    return body


async def _counts(app: Starlette, email: str) -> tuple[int, int]:
    async with app_services(app).sessionmaker() as db:
        users = await db.scalar(select(func.count()).select_from(User)
                                .where(User.email == email))
        links = await db.scalar(select(func.count()).select_from(OidcIdentity)
                                .join(User, User.id == OidcIdentity.user_id)
                                .where(User.email == email))
    return int(users or 0), int(links or 0)


def _refused(response: httpx.Response, status: int, reason: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["reason"] == reason, response.json()
    assert "set-cookie" not in response.headers or "tq_session" not in \
        response.headers["set-cookie"]


async def test_start_redirects_to_the_provider_with_state_nonce_and_pkce(
        browser: httpx.AsyncClient, provider: OidcProvider) -> None:
    location = await _start(browser)
    assert location.startswith(f"{provider.issuer}/auth?")
    query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == provider.client_id
    assert query["redirect_uri"] == CALLBACK and "openid" in query["scope"].split()
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["state"] != query["nonce"]
    assert browser.cookies.get(FLOW_COOKIE, path="/api/auth/oidc")


async def test_unknown_provider_is_404(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/api/auth/oidc/nobody/start")
    assert response.status_code == 404, response.text


async def test_a_new_person_gets_a_verified_account_and_lands_signed_in(
        browser: httpx.AsyncClient, oidc_app: Starlette) -> None:
    email = unique_email("oidc-new")
    back = await sign_in_at_provider(await _start(browser, "/account"), email)
    answer = await _callback(browser, back)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/account"
    me = await _me(browser)
    assert me["email"] == email and me["email_verified"] is True
    assert await _counts(oidc_app, email) == (1, 1)
    # The next sign-in finds the same account through its link, not a second one.
    browser.cookies.clear()
    again = await _callback(browser, await sign_in_at_provider(await _start(browser), email))
    assert again.status_code == 303, again.text
    assert (await _me(browser))["id"] == me["id"]
    assert await _counts(oidc_app, email) == (1, 1)


async def test_a_verified_email_links_the_existing_account_and_signs_out_its_password(
        browser: httpx.AsyncClient, oidc_app: Starlette) -> None:
    # Someone signed up with this address and never proved it (perhaps not its owner):
    # the owner's provider sign-in takes the account, and the unproven password goes.
    account = await sign_up(browser, "oidc-existing")
    answer = await _callback(browser, await sign_in_at_provider(await _start(browser),
                                                                account.email))
    assert answer.status_code == 303, answer.text
    assert (await _me(browser))["id"] == account.id
    assert await _counts(oidc_app, account.email) == (1, 1)
    browser.cookies.clear()  # the bearer token alone, from before
    old_token = await browser.get("/api/me", headers=account.headers)
    assert old_token.status_code == 401, old_token.text
    login = await browser.post("/api/auth/login",
                               json={"email": account.email, "password": account.password})
    assert login.status_code == 401, login.text


async def test_an_unverified_email_does_not_take_over_an_account(
        browser: httpx.AsyncClient, oidc_app: Starlette) -> None:
    victim = await sign_up(browser, "oidc-victim")
    back = await sign_in_at_provider(await _start(browser), f"unverified:{victim.email}")
    _refused(await _callback(browser, back), 403, "email_not_verified")
    assert await _counts(oidc_app, victim.email) == (1, 0)
    login = await browser.post("/api/auth/login",
                               json={"email": victim.email, "password": victim.password})
    assert login.status_code == 200, login.text
    assert (await browser.get("/api/me", headers=victim.headers)).status_code == 200


async def test_a_wrong_state_is_refused_and_the_real_attempt_still_works(
        browser: httpx.AsyncClient, oidc_app: Starlette) -> None:
    email = unique_email("oidc-state")
    back = await sign_in_at_provider(await _start(browser), email)
    forged = back.replace("state=", f"state={secrets.token_urlsafe(32)}&was=")
    _refused(await _callback(browser, forged), 401, "state_mismatch")
    assert await _counts(oidc_app, email) == (0, 0)
    assert (await _callback(browser, back)).status_code == 303


async def test_a_callback_in_a_browser_that_did_not_start_it_is_refused(
        browser: httpx.AsyncClient, oidc_app: Starlette) -> None:
    # Login CSRF: an attacker's own finished sign-in, sent as a link to a victim.
    email = unique_email("oidc-csrf")
    back = await sign_in_at_provider(await _start(browser), email)
    async with api_client(oidc_app, follow_redirects=False) as victim:
        _refused(await _callback(victim, back), 401, "no_attempt")
    assert await _counts(oidc_app, email) == (0, 0)


async def test_a_reused_callback_is_refused(browser: httpx.AsyncClient,
                                            oidc_app: Starlette) -> None:
    email = unique_email("oidc-replay")
    back = await sign_in_at_provider(await _start(browser), email)
    flow_cookie = browser.cookies.get(FLOW_COOKIE, path="/api/auth/oidc")
    assert (await _callback(browser, back)).status_code == 303
    browser.cookies.clear()
    browser.cookies.set(FLOW_COOKIE, flow_cookie or "", path="/api/auth/oidc")
    _refused(await _callback(browser, back), 401, "state_unknown")
    assert await _counts(oidc_app, email) == (1, 1)


async def test_a_code_minted_for_another_nonce_is_refused(
        browser: httpx.AsyncClient, oidc_app: Starlette, provider: OidcProvider) -> None:
    # The attacker copies our attempt's PKCE challenge into an authorization request of
    # their own, with their nonce, and injects the code into our callback: the exchange
    # passes PKCE, and the ID token's nonce gives it away.
    ours = {key: values[0] for key, values in
            parse_qs(urlsplit(await _start(browser)).query).items()}
    theirs = {**ours, "nonce": secrets.token_urlsafe(32), "state": secrets.token_urlsafe(32)}
    email = unique_email("oidc-nonce")
    back = await sign_in_at_provider(f"{provider.issuer}/auth?{urlencode(theirs)}", email)
    code = parse_qs(urlsplit(back).query)["code"][0]
    injected = f"/api/auth/oidc/google/callback?{urlencode({'code': code, 'state': ours['state']})}"
    _refused(await browser.get(injected), 401, "id_token_nonce")
    assert await _counts(oidc_app, email) == (0, 0)


@pytest.mark.parametrize("query", ["", "?code=abc", "?state=short&code=abc",
                                   "?error=access_denied&state=x"])
async def test_malformed_callbacks_get_a_clear_4xx(browser: httpx.AsyncClient,
                                                   query: str) -> None:
    await _start(browser)
    response = await browser.get(f"/api/auth/oidc/google/callback{query}")
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_login_page_links_to_a_configured_provider_only(
        browser: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
    page = await browser.get("/login", params={"next": "/me/orders"})
    assert 'href="/api/auth/oidc/google/start?next=/me/orders"' in page.text
    assert "Sign in with Google" in page.text
    plain = await client.get("/login")  # the suite's app: no provider configured
    assert plain.status_code == 200 and "/api/auth/oidc/" not in plain.text


async def test_sign_in_limits_apply_to_provider_sign_ins(
        browser: httpx.AsyncClient, oidc_app: Starlette) -> None:
    # An account locked by wrong passwords stays locked for its window, whatever the door.
    account = await sign_up(browser, "oidc-locked")
    limit = app_services(oidc_app).settings.signin_failures_per_account
    for _ in range(limit):
        wrong = await browser.post("/api/auth/login",
                                   json={"email": account.email, "password": "wrong password"})
        assert wrong.status_code == 401, wrong.text
    back = await sign_in_at_provider(await _start(browser), account.email)
    answer = await _callback(browser, back)
    assert answer.status_code == 429, answer.text
    assert await _counts(oidc_app, account.email) == (1, 0)

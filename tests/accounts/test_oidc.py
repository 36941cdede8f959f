"""The OpenID Connect code flow against a real provider (node-oidc-provider on loopback):
attempts are single-use, and an ID token is accepted only when its signature verifies
against the provider's keys and its iss, aud, exp and nonce are this client's and this
attempt's; a tampered, unsigned, foreign-keyed or replayed token is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from accounts import oidc
from core.redis_client import RedisClient
from core.settings import Settings
from tests.support import services as test_services
from tests.support.api import unique_email
from tests.support.oidc import OidcProvider, oidc_provider_process, sign_in_at_provider

CALLBACK = "http://127.0.0.1/callback"  # never called: the test reads the redirect


@pytest.fixture(scope="module")
def running(services: test_services.TestServices) -> Iterator[OidcProvider]:
    with oidc_provider_process(services.folder / "logs", redirect_uris=[CALLBACK]) as provider:
        yield provider


@pytest.fixture
def provider(running: OidcProvider, settings: Settings) -> oidc.Provider:
    return oidc.configured(running.configure(settings))["google"]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as client:
        yield client


async def _real_id_token(redis: RedisClient, http: httpx.AsyncClient, provider: oidc.Provider,
                         login: str) -> tuple[str, oidc.Flow, oidc.Metadata]:
    flow, url = await oidc.begin(redis, http, provider, redirect_uri=CALLBACK, next_path="/")
    code = parse_qs(urlsplit(await sign_in_at_provider(url, login)).query)["code"][0]
    taken = await oidc.take_flow(redis, flow.state)
    found = await oidc.metadata(http, provider)
    id_token = await oidc.exchange_code(http, provider, found, code=code,
                                        verifier=taken.verifier, redirect_uri=CALLBACK)
    return id_token, taken, found


def _refused(reason: str) -> pytest.RaisesExc[oidc.OidcRefused]:
    return pytest.raises(oidc.OidcRefused, check=lambda exc: exc.fields["reason"] == reason)


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_provider_is_on_only_with_issuer_id_and_secret(settings: Settings) -> None:
    assert oidc.configured(settings) == {}
    partial = settings.replace(oidc_google_issuer="https://accounts.google.com",
                               oidc_google_client_id="id")
    assert oidc.configured(partial) == {}
    whole = partial.replace(oidc_google_client_secret="secret")
    assert oidc.configured(whole)["google"].issuer == "https://accounts.google.com"


async def test_a_real_id_token_verifies_and_names_the_person(
        redis: RedisClient, http: httpx.AsyncClient, provider: oidc.Provider) -> None:
    email = unique_email("oidc-unit")
    id_token, flow, found = await _real_id_token(redis, http, provider, email)
    identity = oidc.verify_id_token(id_token, keys=found.keys, provider=provider,
                                    nonce=flow.nonce, now=_now())
    assert (identity.provider, identity.subject, identity.email) == ("google", email, email)
    assert identity.email_verified is True


async def test_an_attempt_is_taken_once(redis: RedisClient, http: httpx.AsyncClient,
                                        provider: oidc.Provider) -> None:
    flow, _ = await oidc.begin(redis, http, provider, redirect_uri=CALLBACK, next_path="/x")
    assert (await oidc.take_flow(redis, flow.state)).next_path == "/x"
    with _refused("state_unknown"):
        await oidc.take_flow(redis, flow.state)


async def test_a_code_is_exchanged_only_with_its_pkce_verifier(
        redis: RedisClient, http: httpx.AsyncClient, provider: oidc.Provider) -> None:
    _, url = await oidc.begin(redis, http, provider, redirect_uri=CALLBACK, next_path="/")
    code = parse_qs(urlsplit(await sign_in_at_provider(url, "pkce")).query)["code"][0]
    found = await oidc.metadata(http, provider)
    with _refused("code_refused"):
        await oidc.exchange_code(http, provider, found, code=code, verifier="x" * 50,
                                 redirect_uri=CALLBACK)


async def test_wrong_nonce_audience_issuer_or_an_expired_token_is_refused(
        redis: RedisClient, http: httpx.AsyncClient, provider: oidc.Provider) -> None:
    id_token, flow, found = await _real_id_token(redis, http, provider, "claims")

    def check(**changes: object) -> None:
        oidc.verify_id_token(id_token, keys=found.keys,
                             provider=replace(provider, **changes.pop("provider", {})),  # type: ignore[arg-type]
                             nonce=str(changes.get("nonce", flow.nonce)),
                             now=changes.get("now", _now()))  # type: ignore[arg-type]

    with _refused("id_token_nonce"):
        check(nonce="another-attempts-nonce")
    with _refused("id_token_aud"):
        check(provider={"client_id": "another-client"})
    with _refused("id_token_iss"):
        check(provider={"issuer": "https://accounts.google.com"})
    with _refused("id_token_exp"):
        check(now=_now() + timedelta(days=1))
    check()  # and the same token, checked as it should be, passes


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, object]:
    payload = _segments(token)[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    return decoded


async def test_tampered_unsigned_and_foreign_keyed_tokens_are_refused(
        redis: RedisClient, http: httpx.AsyncClient, provider: oidc.Provider) -> None:
    id_token, flow, found = await _real_id_token(redis, http, provider, "tamper")
    header, _, signature = _segments(id_token)
    claims = {**_claims(id_token), "email": "someone-else@example.test"}
    tampered = f"{header}.{_b64(claims)}.{signature}"
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * 4))["kid"]
    foreign = jwt.encode({"alg": "RS256", "kid": kid}, claims,
                         RSAKey.generate_key(2048, parameters={"kid": kid}))
    for forged in (tampered, unsigned, foreign):
        with _refused("id_token_signature"):
            oidc.verify_id_token(forged, keys=found.keys, provider=provider, nonce=flow.nonce,
                                 now=_now())


async def test_an_id_token_is_accepted_once(redis: RedisClient, http: httpx.AsyncClient,
                                            provider: oidc.Provider) -> None:
    id_token, flow, found = await _real_id_token(redis, http, provider, "replay")
    identity = oidc.verify_id_token(id_token, keys=found.keys, provider=provider,
                                    nonce=flow.nonce, now=_now())
    await oidc.accept_once(redis, id_token, identity, _now())
    with _refused("id_token_replayed"):
        await oidc.accept_once(redis, id_token, identity, _now())


async def test_discovery_that_names_another_issuer_is_refused(
        http: httpx.AsyncClient, provider: oidc.Provider) -> None:
    with pytest.raises(oidc.ProviderUnavailable):
        await oidc.metadata(http, replace(provider, issuer=provider.issuer + "/"))

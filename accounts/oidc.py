"""Sign in with an OpenID Connect provider: the authorization code flow with PKCE.

`begin` keeps a new attempt's state, nonce and PKCE verifier in Redis under the state
(single use, FLOW_TTL_S) and answers the provider's authorization URL; the gateway binds
the state to the browser with a signed cookie. `finish` takes the attempt out of Redis
(a reused or expired state finds nothing), exchanges the code with the verifier, and
verifies the ID token: its signature against the provider's published keys (JWKS), `iss`,
`aud` (and `azp`), `exp`/`iat`, and the attempt's `nonce`. An ID token is accepted once:
its digest is remembered until it expires, so a replayed token is refused even if it
somehow came back through a new attempt.

The request and PKCE helpers are authlib's; the JOSE checks are joserfc's (authlib's own
successor to its deprecated `authlib.jose`); HTTP is httpx (authlib's httpx client now
wants httpx2, a second HTTP stack the project does not otherwise need). Linking the
verified identity to an account is accounts/oidc_accounts.py.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import ClaimError, JoseError
from joserfc.jwk import KeySet

from core.errors import Busy, NotAuthenticated
from core.redis_client import RedisClient
from core.redis_keys import oidc_flow, oidc_seen_id_token
from core.settings import Settings

FLOW_TTL_S = 600  # long enough to sign in at the provider, short enough to be useless later
SCOPE = "openid email profile"
# Asymmetric algorithms only: "none" and HMAC (keyed by the client secret) never verify.
ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
LEEWAY_S = 60  # clock skew allowed on exp/iat
METADATA_TTL_S = 3600
HTTP_TIMEOUT_S = 10.0
MAX_SUBJECT = 255  # OpenID Connect Core 2: `sub` is at most 255 ASCII characters
ERROR_CODE = re.compile(r"[a-z_]{1,60}")
# Why an ID token was refused, by the claim that failed (what the person reads).
CLAIM_REFUSALS = {
    "iss": "it was issued by another provider",
    "aud": "it was issued to another client",
    "exp": "it has expired",
    "iat": "its issue time is missing or in the future",
    "sub": "it names nobody",
    "nonce": "it belongs to another sign-in attempt (nonce mismatch)",
}


class OidcRefused(NotAuthenticated):
    """The sign-in attempt or the provider's answer is not one we accept (401)."""


class ProviderUnavailable(Busy):
    """The provider did not answer, or answered nonsense (503: try again)."""


@dataclass(frozen=True)
class Provider:
    name: str
    issuer: str
    client_id: str
    client_secret: str


def configured(settings: Settings) -> dict[str, Provider]:
    """The providers whose issuer, client id and secret are all set, by URL name."""
    found: dict[str, Provider] = {}
    if (settings.oidc_google_issuer and settings.oidc_google_client_id
            and settings.oidc_google_client_secret):
        found["google"] = Provider("google", settings.oidc_google_issuer,
                                   settings.oidc_google_client_id,
                                   settings.oidc_google_client_secret)
    return found


@dataclass(frozen=True)
class Metadata:
    authorization_endpoint: str
    token_endpoint: str
    keys: KeySet
    fetched_at: float


_metadata: dict[str, Metadata] = {}


async def _get_json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        response = await http.get(url)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderUnavailable("the sign-in provider did not answer; try again") from exc
    if not isinstance(document, dict):
        raise ProviderUnavailable("the sign-in provider answered nonsense; try again")
    return document


async def metadata(http: httpx.AsyncClient, provider: Provider, *,
                   refresh: bool = False) -> Metadata:
    """Discovery (and the JWKS), cached per issuer for METADATA_TTL_S."""
    cached = _metadata.get(provider.issuer)
    if cached and not refresh and time.monotonic() - cached.fetched_at < METADATA_TTL_S:
        return cached
    document = await _get_json(
        http, provider.issuer.rstrip("/") + "/.well-known/openid-configuration")
    # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer we asked.
    if document.get("issuer") != provider.issuer:
        raise ProviderUnavailable("the sign-in provider's discovery names another issuer")
    try:
        jwks = await _get_json(http, str(document["jwks_uri"]))
        # joserfc's TypedDict for a JWKS; a malformed one raises below, never passes.
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        found = Metadata(str(document["authorization_endpoint"]),
                         str(document["token_endpoint"]), keys, time.monotonic())
    except (KeyError, JoseError, ValueError) as exc:
        raise ProviderUnavailable("the sign-in provider's metadata is incomplete") from exc
    _metadata[provider.issuer] = found
    return found


@dataclass(frozen=True)
class Flow:
    provider: str
    state: str
    nonce: str
    verifier: str
    next_path: str


async def begin(redis: RedisClient, http: httpx.AsyncClient, provider: Provider, *,
                redirect_uri: str, next_path: str) -> tuple[Flow, str]:
    """A new attempt (kept in Redis) and the provider URL that starts it."""
    found = await metadata(http, provider)
    flow = Flow(provider.name, secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                secrets.token_urlsafe(48), next_path)
    await redis.set(oidc_flow(flow.state), json.dumps(flow.__dict__), ex=FLOW_TTL_S)
    url = prepare_grant_uri(
        found.authorization_endpoint, provider.client_id, "code", redirect_uri=redirect_uri,
        scope=SCOPE, state=flow.state, nonce=flow.nonce,
        code_challenge=create_s256_code_challenge(flow.verifier), code_challenge_method="S256",
    )
    return flow, str(url)


async def take_flow(redis: RedisClient, state: str) -> Flow:
    """The attempt this state started, removed so it cannot be used twice."""
    raw = await redis.getdel(oidc_flow(state))
    if raw is None:
        raise OidcRefused("this sign-in attempt has expired or was already used; start again",
                          reason="state_unknown")
    return Flow(**json.loads(raw))


@dataclass(frozen=True)
class Identity:
    """What a verified ID token says about the person."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    expires_at: int


def _claims_registry(provider: Provider, nonce: str, now: datetime) -> jwt.JWTClaimsRegistry:
    return jwt.JWTClaimsRegistry(
        now=int(now.timestamp()), leeway=LEEWAY_S,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )


def verify_id_token(id_token: str, *, keys: KeySet, provider: Provider, nonce: str,
                    now: datetime) -> Identity:
    """The identity in a genuine ID token for this client and attempt, or OidcRefused."""
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
    except (JoseError, ValueError) as exc:
        raise OidcRefused("the ID token's signature does not verify against the provider's "
                          "keys", reason="id_token_signature") from exc
    claims = token.claims
    try:
        _claims_registry(provider, nonce, now).validate(claims)
    except ClaimError as exc:
        why = CLAIM_REFUSALS.get(exc.claim, f"its {exc.claim!r} claim is wrong or missing")
        raise OidcRefused(f"the ID token was refused: {why}",
                          reason=f"id_token_{exc.claim}") from exc
    if len(str(claims["sub"])) > MAX_SUBJECT:
        raise OidcRefused("the ID token names its person with an over-long id",
                          reason="id_token_sub")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    # OpenID Connect Core 3.1.3.7: with several audiences, azp must name this client.
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise OidcRefused("the ID token was issued to another client", reason="id_token_azp")
    email = claims.get("email")
    name = claims.get("name")
    return Identity(provider.name, str(claims["sub"]),
                    email if isinstance(email, str) else None,
                    claims.get("email_verified") is True,  # a string "true" is not proof
                    name if isinstance(name, str) else None, int(claims["exp"]))


async def exchange_code(http: httpx.AsyncClient, provider: Provider, found: Metadata, *,
                        code: str, verifier: str, redirect_uri: str) -> str:
    """The ID token the provider gives for this code and PKCE verifier."""
    try:
        response = await http.post(
            found.token_endpoint, auth=(provider.client_id, provider.client_secret),
            data={"grant_type": "authorization_code", "code": code,
                  "redirect_uri": redirect_uri, "code_verifier": verifier},
        )
    except httpx.HTTPError as exc:
        raise ProviderUnavailable("the sign-in provider did not answer; try again") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200 or not isinstance(answer, dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        # Only an OAuth error code goes into our message, never arbitrary provider text.
        if not (isinstance(error, str) and ERROR_CODE.fullmatch(error)):
            error = "error"
        raise OidcRefused(f"the provider did not accept the sign-in code ({error}); "
                          "start again", reason="code_refused")
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise OidcRefused("the provider answered without an ID token", reason="no_id_token")
    return id_token


async def accept_once(redis: RedisClient, id_token: str, identity: Identity,
                      now: datetime) -> None:
    """Refuse an ID token seen before (kept until it expires, when it is refused anyway)."""
    digest = hashlib.sha256(id_token.encode()).hexdigest()
    ttl_s = max(1, identity.expires_at + LEEWAY_S - int(now.timestamp()))
    if not await redis.set(oidc_seen_id_token(digest), "1", nx=True, ex=ttl_s):
        raise OidcRefused("this ID token was already used to sign in", reason="id_token_replayed")


async def finish(redis: RedisClient, http: httpx.AsyncClient, provider: Provider, flow: Flow,
                 *, code: str, redirect_uri: str, now: datetime) -> Identity:
    """Exchange the code of an attempt taken with `take_flow` and verify its ID token."""
    found = await metadata(http, provider)
    id_token = await exchange_code(http, provider, found, code=code, verifier=flow.verifier,
                                   redirect_uri=redirect_uri)
    try:
        identity = verify_id_token(id_token, keys=found.keys, provider=provider,
                                   nonce=flow.nonce, now=now)
    except OidcRefused as exc:
        if exc.fields.get("reason") != "id_token_signature":
            raise
        # The provider may have rotated its keys since we cached them: fetch them once more.
        found = await metadata(http, provider, refresh=True)
        identity = verify_id_token(id_token, keys=found.keys, provider=provider,
                                   nonce=flow.nonce, now=now)
    await accept_once(redis, id_token, identity, now)
    return identity

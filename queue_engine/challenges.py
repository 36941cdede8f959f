"""The proof-of-work challenge a fan solves before a join counts (ALTCHA, v2 protocol).

A challenge is issued for one drop and one fan, expires after a short TTL and is
signed with keys derived from the secret key (never the raw secret, so a leak of one
use's key says nothing about sessions or passes). It is made in altcha's deterministic
mode: the server picks a counter in [0, difficulty] and publishes only a prefix of the
key that counter derives, so the fan tries ~difficulty/2 counters on average (one
SHA-256 each) and the server checks the answer with one HMAC (`key_signature`).

Used once: the first join that spends it records its id under the drop's hash tag
with SET NX (TTL = until it expires); a replay finds the record and is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

import altcha

from core.redis_client import RedisClient
from core.redis_keys import DropKeys
from core.script_batching import ScriptBatcher
from queue_engine.errors import (
    ChallengeExpired,
    ChallengeForeign,
    ChallengeInvalid,
    ChallengeReplayed,
)

# Iterated SHA-256 with cost 1: one hash per try, which the widget's worker computes
# with WebCrypto and altcha's Python solver with hashlib.
ALGORITHM = "SHA-256"
COST = 1
# A payload is a few hundred bytes of base64; anything much longer is not ours.
MAX_PAYLOAD_CHARS = 4096


@dataclass(frozen=True)
class ChallengeKeys:
    signing: bytes  # signs the challenge's parameters (tamper check)
    solution: bytes  # signs the expected derived key (the fast check of a solution)


def challenge_keys(secret_key: str) -> ChallengeKeys:
    def derive(purpose: bytes) -> bytes:
        return hmac.digest(secret_key.encode(), b"ticketq/pow-challenge/" + purpose, "sha256")

    return ChallengeKeys(signing=derive(b"signing"), solution=derive(b"solution"))


def issue(keys: ChallengeKeys, *, drop_id: int, fan_id: int, difficulty: int, now_ms: int,
          ttl_s: int) -> dict[str, Any]:
    """A signed challenge as the widget and solvers take it (altcha's JSON)."""
    challenge = altcha.create_challenge(
        ALGORITHM, COST, counter=secrets.randbelow(difficulty + 1),
        expires_at=now_ms // 1000 + ttl_s,
        data={"drop": str(drop_id), "fan": str(fan_id)},
        hmac_secret=keys.signing, hmac_key_secret=keys.solution)
    issued: dict[str, Any] = challenge.to_dict()
    return issued


@dataclass(frozen=True)
class SolvedChallenge:
    challenge_id: str
    expires_at_s: int


def _parameters(payload: str) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.b64decode(payload, validate=True))
        parameters = decoded["challenge"]["parameters"]
    except (ValueError, KeyError, TypeError):
        raise ChallengeInvalid("the challenge solution is not an altcha payload") from None
    if not isinstance(parameters, dict):
        raise ChallengeInvalid("the challenge solution is not an altcha payload")
    return parameters


def verify(keys: ChallengeKeys, payload: str, *, drop_id: int, fan_id: int,
           now_ms: int) -> SolvedChallenge:
    """The solved challenge behind `payload`, or the refusal a fan reads."""
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise ChallengeInvalid("the challenge solution is too long to be ours")
    parameters = _parameters(payload)
    expires_at = parameters.get("expiresAt")
    result = altcha.verify_solution(payload, keys.signing, hmac_key_secret=keys.solution)
    if result.invalid_signature or result.error or not isinstance(expires_at, int):
        raise ChallengeInvalid("this challenge is not one we issued; fetch a new one")
    # Our clock decides (altcha also checks the wall clock, and says `expired`).
    if result.expired or expires_at * 1000 <= now_ms:
        raise ChallengeExpired("this challenge has expired; fetch a new one")
    data = parameters.get("data") or {}
    if data.get("drop") != str(drop_id) or data.get("fan") != str(fan_id):
        raise ChallengeForeign("this challenge was issued for another drop or fan")
    if not result.verified:
        raise ChallengeInvalid("the challenge is not solved; solve it before joining")
    # Unique per challenge (it signs a random nonce and salt); hashed to a short key.
    challenge_id = hashlib.sha256(str(parameters["nonce"]).encode()).hexdigest()[:32]
    return SolvedChallenge(challenge_id=challenge_id, expires_at_s=expires_at)


async def spend(redis: RedisClient, drop_id: int, solved: SolvedChallenge, *, now_ms: int,
                batcher: ScriptBatcher | None = None) -> None:
    """Record the challenge as used (ChallengeReplayed if it already was). With `batcher`
    the SET shares the herd's pipelines (the join sends it beside the address's hit)."""
    ttl_ms = max(solved.expires_at_s * 1000 - now_ms, 1)
    key = DropKeys(drop_id).solved_challenge(solved.challenge_id)
    if batcher is not None:
        recorded = await batcher.command("SET", key, 1, "NX", "PX", ttl_ms)
    else:
        recorded = await redis.set(key, 1, nx=True, px=ttl_ms)
    if not recorded:
        raise ChallengeReplayed("this challenge was already used; fetch a new one")

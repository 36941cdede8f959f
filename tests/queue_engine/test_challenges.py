"""The proof-of-work challenge: issued for one drop and fan, checked with one HMAC,
refused when forged, foreign, unsolved or expired (by our clock), and spent once in
real Redis (single and Cluster)."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import altcha
import pytest

from core.redis_keys import DropKeys
from core.script_batching import ScriptBatcher
from core.scripts import ScriptRegistry
from queue_engine import challenges
from queue_engine.errors import (
    ChallengeExpired,
    ChallengeForeign,
    ChallengeInvalid,
    ChallengeReplayed,
)
from tests.queue_engine.conftest import new_drop_id

KEYS = challenges.challenge_keys("a test secret key that is long enough, honestly")


@pytest.fixture
def now_ms() -> int:
    """Read when each test runs: altcha also checks expiry against the wall clock, so a
    time taken at import is stale by the time a long suite reaches these tests."""
    return int(time.time() * 1000)


def solved_payload(now_ms: int, drop_id: int = 5, fan_id: int = 7, difficulty: int = 500,
                   ttl_s: int = 60) -> str:
    challenge = altcha.Challenge.from_dict(challenges.issue(
        KEYS, drop_id=drop_id, fan_id=fan_id, difficulty=difficulty, now_ms=now_ms, ttl_s=ttl_s))
    solution = altcha.solve_challenge(challenge)
    assert solution is not None and solution.counter <= difficulty
    return altcha.Payload(challenge, solution).to_base64()


def test_keys_are_derived_not_the_secret_and_differ_per_purpose():
    secret = "a test secret key that is long enough, honestly"
    assert secret.encode() not in (KEYS.signing, KEYS.solution)
    assert KEYS.signing != KEYS.solution
    assert challenges.challenge_keys("another secret key, just as long as the first") != KEYS


def test_a_solved_challenge_verifies_for_its_drop_and_fan_only(now_ms):
    payload = solved_payload(now_ms)
    solved = challenges.verify(KEYS, payload, drop_id=5, fan_id=7, now_ms=now_ms)
    assert len(solved.challenge_id) == 32 and solved.expires_at_s == now_ms // 1000 + 60
    with pytest.raises(ChallengeForeign):
        challenges.verify(KEYS, payload, drop_id=6, fan_id=7, now_ms=now_ms)
    with pytest.raises(ChallengeForeign):
        challenges.verify(KEYS, payload, drop_id=5, fan_id=8, now_ms=now_ms)
    other_keys = challenges.challenge_keys("a different deployment's secret key, also long")
    with pytest.raises(ChallengeInvalid):
        challenges.verify(other_keys, payload, drop_id=5, fan_id=7, now_ms=now_ms)


def test_expiry_is_decided_by_our_clock(now_ms):
    payload = solved_payload(now_ms, ttl_s=30)
    challenges.verify(KEYS, payload, drop_id=5, fan_id=7, now_ms=now_ms + 29_000)
    with pytest.raises(ChallengeExpired):
        challenges.verify(KEYS, payload, drop_id=5, fan_id=7, now_ms=now_ms + 30_000)


@pytest.mark.parametrize("field, value", [
    (("challenge", "parameters", "expiresAt"), int(time.time()) + 9999),  # a longer life
    (("challenge", "parameters", "keyPrefix"), "00"),  # an easier puzzle
    (("challenge", "parameters", "keySignature"), "ab" * 32),
    (("solution", "derivedKey"), "11" * 32),  # a guess (the key is the proof, not the counter)
])
def test_tampering_is_refused(field, value, now_ms):
    decoded = json.loads(base64.b64decode(solved_payload(now_ms)))
    target = decoded
    for name in field[:-1]:
        target = target[name]
    if target[field[-1]] == value:
        pytest.skip("the random counter happened to be the forged value")
    target[field[-1]] = value
    forged = base64.b64encode(json.dumps(decoded).encode()).decode()
    with pytest.raises((ChallengeInvalid, ChallengeExpired)):
        challenges.verify(KEYS, forged, drop_id=5, fan_id=7, now_ms=now_ms)


@pytest.mark.parametrize("payload", ["", "not base64!", base64.b64encode(b"[1, 2]").decode(),
                                     base64.b64encode(b'{"challenge": 3}').decode(), "A" * 5000])
def test_garbage_is_invalid_not_an_error(payload, now_ms):
    with pytest.raises(ChallengeInvalid):
        challenges.verify(KEYS, payload, drop_id=5, fan_id=7, now_ms=now_ms)


async def test_a_challenge_is_spent_once_and_its_record_expires_with_it(any_redis, now_ms):
    drop_id = new_drop_id()
    solved = challenges.verify(KEYS, solved_payload(now_ms, drop_id=drop_id), drop_id=drop_id,
                               fan_id=7, now_ms=now_ms)
    await challenges.spend(any_redis, drop_id, solved, now_ms=now_ms)
    with pytest.raises(ChallengeReplayed):
        await challenges.spend(any_redis, drop_id, solved, now_ms=now_ms + 1000)
    ttl_ms = await any_redis.pttl(DropKeys(drop_id).solved_challenge(solved.challenge_id))
    assert 55_000 < ttl_ms <= 60_000


async def test_a_batched_spend_is_the_same_record(any_redis, now_ms):
    """The join spends through the herd's pipelines (gateway/join_guard.py)."""
    drop_id = new_drop_id()
    batcher = ScriptBatcher(ScriptRegistry(any_redis))
    solved = challenges.verify(KEYS, solved_payload(now_ms, drop_id=drop_id), drop_id=drop_id,
                               fan_id=7, now_ms=now_ms)
    first, replay = await asyncio.gather(
        challenges.spend(any_redis, drop_id, solved, now_ms=now_ms, batcher=batcher),
        challenges.spend(any_redis, drop_id, solved, now_ms=now_ms, batcher=batcher),
        return_exceptions=True)
    assert first is None and isinstance(replay, ChallengeReplayed)
    with pytest.raises(ChallengeReplayed):
        await challenges.spend(any_redis, drop_id, solved, now_ms=now_ms + 1000)
    ttl_ms = await any_redis.pttl(DropKeys(drop_id).solved_challenge(solved.challenge_id))
    assert 55_000 < ttl_ms <= 60_000

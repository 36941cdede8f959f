"""The rate-limit primitive (core.rate_limits) against real Redis, single node and Cluster.

Time is an input: every test picks `now_ms`, so windows roll without sleeping.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from core.errors import RateLimited
from core.rate_limits import RateDecision, check_rate, decide, hit
from core.redis_client import RedisClient
from core.redis_keys import DropKeys, RateKey
from core.script_batching import ScriptBatcher
from core.scripts import ScriptRegistry, load_sources

T0 = 1_796_083_200_000  # 2026-12-01T00:00:00Z, a multiple of every window below


def fresh_key(scope: str = "test") -> RateKey:
    return RateKey(scope, f"subject-{uuid.uuid4().hex[:8]}")


async def test_counts_to_the_limit_then_refuses_until_the_window_ends(scripts: ScriptRegistry):
    key = fresh_key()
    decisions = [await hit(scripts, key, limit=3, window_s=60, now_ms=T0 + 10_000)
                 for _ in range(4)]
    assert decisions == [RateDecision(True, 2, 0), RateDecision(True, 1, 0),
                         RateDecision(True, 0, 0), RateDecision(False, 0, 50)]
    later = await hit(scripts, key, limit=3, window_s=60, now_ms=T0 + 60_000)
    assert later == RateDecision(True, 2, 0)


async def test_subjects_and_scopes_count_apart(scripts: ScriptRegistry):
    key = fresh_key("signin-ip")
    assert (await hit(scripts, key, limit=1, window_s=60, now_ms=T0)).allowed
    assert not (await hit(scripts, key, limit=1, window_s=60, now_ms=T0)).allowed
    for other in (RateKey("signup-ip", key.subject), fresh_key("signin-ip")):
        assert (await hit(scripts, other, limit=1, window_s=60, now_ms=T0)).allowed


async def test_a_key_at_home_under_a_drop_lives_and_counts_there(scripts: ScriptRegistry):
    home = DropKeys(int(uuid.uuid4().int % 10**9)).tag
    key = RateKey("join-ip", "198.51.100.7", home)
    assert key.window(5).startswith(home + ":rl:join-ip:198.51.100.7:")
    assert (await hit(scripts, key, limit=1, window_s=60, now_ms=T0)).allowed
    assert await scripts.client.exists(key.window(T0 // 60_000)) == 1
    assert not (await hit(scripts, key, limit=1, window_s=60, now_ms=T0)).allowed
    elsewhere = RateKey("join-ip", "198.51.100.7", DropKeys(1 + int(uuid.uuid4().int % 10**9)).tag)
    assert (await hit(scripts, elsewhere, limit=1, window_s=60, now_ms=T0)).allowed
    await scripts.client.delete(key.window(T0 // 60_000), elsewhere.window(T0 // 60_000))


async def test_a_refused_hit_counts_nothing(scripts: ScriptRegistry):
    key = fresh_key()
    assert (await hit(scripts, key, limit=5, window_s=10, now_ms=T0, cost=4)).remaining == 1
    refused = await hit(scripts, key, limit=5, window_s=10, now_ms=T0, cost=2)
    assert refused == RateDecision(False, 1, 10)
    assert await hit(scripts, key, limit=5, window_s=10, now_ms=T0, cost=1) == RateDecision(
        True, 0, 0)


@pytest.mark.parametrize(("limit", "cost", "offset_ms", "window_s"), [
    (3, 1, 0, 60), (3, 1, 59_999, 60), (1, 1, 123, 1), (2, 5, 10, 60), (0, 1, 0, 60),
    (10**6, 10**6, 3_599_999, 3600),
])
async def test_after_one_call_the_key_has_a_ttl_or_does_not_exist(
        scripts: ScriptRegistry, any_redis: RedisClient, limit: int, cost: int, offset_ms: int,
        window_s: int):
    """Crash safety: count and expiry are one script, so no counter is left without a TTL.
    The TTL covers the rest of the window plus one window of grace, no more."""
    key = fresh_key()
    now_ms = T0 + offset_ms
    counter = key.window(now_ms // (window_s * 1000))
    await hit(scripts, key, limit=limit, window_s=window_s, now_ms=now_ms, cost=cost)
    ttl = await any_redis.pttl(counter)
    if cost > limit:
        assert ttl == -2  # refused before anything was written
    else:
        rest = window_s * 1000 - offset_ms % (window_s * 1000)
        assert 0 < ttl <= rest + window_s * 1000


async def test_check_rate_raises_rate_limited_with_retry_after(scripts: ScriptRegistry):
    key = fresh_key()
    assert (await check_rate(scripts, key, limit=1, window_s=60, now_ms=T0 + 59_001,
                             detail="slow down")).allowed
    with pytest.raises(RateLimited) as refused:
        await check_rate(scripts, key, limit=1, window_s=60, now_ms=T0 + 59_001,
                         detail="slow down")
    assert refused.value.detail == "slow down"
    assert refused.value.retry_after_s == 1


async def test_concurrent_hits_never_pass_the_limit(scripts: ScriptRegistry,
                                                    any_redis: RedisClient):
    """Auto-pipelined or not, exactly `limit` of a herd get through."""
    # redis-py's RedisCluster builds its node table on first use; a herd on a client
    # that has never spoken can tear a connection down under another call (seen with
    # redis-py 8.1: AttributeError on `writelines`). Not the limiter's to test: speak once.
    await any_redis.ping()
    key = fresh_key()
    batcher = ScriptBatcher(scripts)
    decisions = await asyncio.gather(
        *(hit(batcher, key, limit=25, window_s=60, now_ms=T0) for _ in range(60)),
        *(hit(scripts, key, limit=25, window_s=60, now_ms=T0) for _ in range(20)))
    assert sum(d.allowed for d in decisions) == 25
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(25))


@pytest.mark.parametrize("kwargs", [
    {"cost": 0}, {"limit": -1}, {"window_s": 0},
])
async def test_nonsense_arguments_are_programming_errors(scripts: ScriptRegistry, kwargs):
    arguments = {"limit": 1, "window_s": 60, "now_ms": T0, **kwargs}
    with pytest.raises(ValueError, match="rate limit needs"):
        await hit(scripts, fresh_key(), **arguments)


@pytest.mark.parametrize("scope", ["", "Sign-In", "signin:ip", "ünï", "a b", "ip\n"])
def test_scopes_cannot_collide_or_smuggle_separators(scope: str):
    with pytest.raises(ValueError, match="scope"):
        RateKey(scope, "x")


def test_every_window_of_a_subject_shares_one_hash_tag():
    key = RateKey("signin-ip", "2001:db8::1")
    assert key.window(7) == "tq:{rl:signin-ip:2001:db8::1}:7"
    tags = {k.split("}")[0] for k in (key.window(7), key.window(8))}
    assert tags == {"tq:{rl:signin-ip:2001:db8::1"}


def test_the_decision_arithmetic():
    assert decide(allowed=True, hits=2, ms_left=5, limit=3) == RateDecision(True, 1, 0)
    assert decide(allowed=False, hits=3, ms_left=1, limit=3) == RateDecision(False, 0, 1)
    assert decide(allowed=False, hits=3, ms_left=1001, limit=3) == RateDecision(False, 0, 2)


def test_script_header_declares_the_one_key_hit_passes():
    source = load_sources()["hit_rate_limit"]
    assert source.header.startswith("--[[ hit_rate_limit:")
    assert source.key_count == 1
    assert "ARGV[4]" in source.header and "Returns" in source.header
    declared = re.search(r"KEYS\[1\]\s+(\S+)", source.header)
    assert declared is not None
    assert declared[1] == "tq:{rl:SCOPE:SUBJECT}:WINDOW"
    assert RateKey("scope", "subject").window(9) == "tq:{rl:scope:subject}:9"

"""The Cluster client waits for a connection like the single-node blocking pool (a herd
on one drop's slot must queue, not fail), and gives up the same way after its timeout."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError

from core.redis_client import close_redis, create_redis
from core.waiting_cluster import NODE_MARGIN, WaitingRedisCluster

KEY = "{waiting-test}:never-filled"  # one slot: every call goes to the same master


async def _herd(client: RedisCluster, size: int, block_s: float) -> list[object]:
    """`size` calls at once, each holding its connection for `block_s` (BLPOP on an empty
    list), like a spike of joins on one drop."""
    calls = [client.blpop([KEY], timeout=block_s) for _ in range(size)]
    return await asyncio.gather(*calls, return_exceptions=True)


async def test_a_herd_larger_than_the_pool_waits_and_succeeds(cluster_url: str) -> None:
    client = create_redis(cluster_url, cluster=True, max_connections=2, pool_timeout_s=10)
    assert isinstance(client, WaitingRedisCluster)
    try:
        answers = await _herd(client, 12, 0.1)
        assert answers == [None] * 12
        node = client.get_node_from_key(KEY)
        assert node is not None
        assert len(node._connections) <= 2 + NODE_MARGIN
    finally:
        await close_redis(client)


async def test_redis_py_cluster_client_alone_fails_the_same_herd(cluster_url: str) -> None:
    """Why the wrapper exists: the plain client raises at once past its per-node pool."""
    client = RedisCluster.from_url(cluster_url, max_connections=2)
    try:
        answers = await _herd(client, 12, 0.1)
        assert any(isinstance(answer, MaxConnectionsError) for answer in answers)
    finally:
        await client.aclose()


async def test_a_wait_past_the_timeout_fails_like_the_blocking_pool(cluster_url: str) -> None:
    client = create_redis(cluster_url, cluster=True, max_connections=1, pool_timeout_s=0.05)
    try:
        answers = await _herd(client, 2, 1.0)
        assert None in answers
        failures = [answer for answer in answers if isinstance(answer, Exception)]
        assert len(failures) == 1
        assert isinstance(failures[0], RedisConnectionError)
        assert "No connection available" in str(failures[0])
        assert await client.set(KEY + ":after", "1", px=1000)  # the slot came back
    finally:
        await close_redis(client)


@pytest.mark.parametrize("transaction", [False, True])
async def test_pipelines_take_a_slot_too(cluster_url: str, transaction: bool) -> None:
    client = create_redis(cluster_url, cluster=True, max_connections=2, pool_timeout_s=10)

    async def one(index: int) -> list[object]:
        async with client.pipeline(transaction=transaction) as pipe:
            pipe.set(f"{{waiting-test}}:p{index}", index, px=5000)
            pipe.get(f"{{waiting-test}}:p{index}")
            return await pipe.execute()

    try:
        results = await asyncio.gather(*(one(i) for i in range(30)))
        assert [result[1] for result in results] == [str(i).encode() for i in range(30)]
    finally:
        await close_redis(client)

"""The one place a Redis client is built, single node or Cluster."""

from __future__ import annotations

from typing import TypeAlias

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster

from core.waiting_cluster import WaitingRedisCluster

RedisClient: TypeAlias = Redis | RedisCluster

# A herd of coroutines must wait for a connection, not fail: the default pool (and the
# Cluster client's per-node pool) raises MaxConnectionsError past its size
# (ARCHITECTURE.md, "Where numbers come from"); on a Cluster core/waiting_cluster.py waits.
DEFAULT_MAX_CONNECTIONS = 200
# Past this wait for a free connection, the pool raises redis.ConnectionError("No connection
# available."), which the gateway answers with 503 + Retry-After (gateway/errors.py).
DEFAULT_POOL_TIMEOUT_S = 10.0


def create_redis(
    url: str, *, cluster: bool = False, max_connections: int = DEFAULT_MAX_CONNECTIONS,
    pool_timeout_s: float = DEFAULT_POOL_TIMEOUT_S,
) -> RedisClient:
    if cluster:
        return WaitingRedisCluster.from_url(url, max_connections=max_connections,
                                            pool_timeout_s=pool_timeout_s)
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections,
                                           timeout=pool_timeout_s)
    return Redis(connection_pool=pool)


async def close_redis(client: RedisClient) -> None:
    if isinstance(client, RedisCluster):
        await client.aclose()
    else:
        await client.aclose()
        await client.connection_pool.disconnect()

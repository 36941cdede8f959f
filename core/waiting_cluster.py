"""A Redis Cluster client whose callers wait for a free connection instead of failing.

redis-py's single-node BlockingConnectionPool makes a herd of coroutines queue for its
connections. Its Cluster client has no such pool: past `max_connections` to one node
it raises MaxConnectionsError at once, and one drop lives in one hash slot, so a join
spike sends every call to the same master and the overflow became 500s (issue 14's
Cluster rehearsal: "pop from an empty deque" in the join guards). Here each command
and each pipeline first takes one of `max_connections` slots, waiting up to
`pool_timeout_s` like the blocking pool, then fails the way that pool does
(redis.ConnectionError "No connection available.", which the gateway answers with 503
+ Retry-After). A command or pipeline holds at most one connection per node at a time,
so the nodes never see more than the slots; the nodes' own limit keeps a margin for
the client's topology refreshes, which bypass the slots.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError

# Connections a node may open beyond the slots: CLUSTER SLOTS refreshes after a failover.
NODE_MARGIN = 8


class WaitingRedisCluster(RedisCluster):
    def __init__(self, *, max_connections: int, pool_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(max_connections=max_connections + NODE_MARGIN, **kwargs)
        self._slots = asyncio.Semaphore(max_connections)
        self._pool_timeout_s = pool_timeout_s

    @asynccontextmanager
    async def connection_slot(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._pool_timeout_s):
                await self._slots.acquire()
        except TimeoutError:
            raise RedisConnectionError("No connection available.") from None
        try:
            yield
        finally:
            self._slots.release()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self.connection_slot():
            return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any | None = None,
                 shard_hint: Any | None = None) -> ClusterPipeline:
        if shard_hint:  # the parent refuses it; keep its message
            return super().pipeline(transaction, shard_hint)
        # mypy sees an abstract attribute the parent sets at run time; redis-py builds
        # ClusterPipeline(self, transaction) the same way.
        return _WaitingPipeline(self, transaction)  # type: ignore[abstract]


class _WaitingPipeline(ClusterPipeline):
    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True
                      ) -> list[Any]:
        client = self.cluster_client
        assert isinstance(client, WaitingRedisCluster)
        async with client.connection_slot():
            return await super().execute(raise_on_error, allow_redirections)

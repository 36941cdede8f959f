"""Auto-pipelining for hot scripts (and hot reads): concurrent calls made in the same
event-loop turn go to Redis as one pipeline (one write, one read) instead of one round
trip each.

redis-py spends far more CPU per command than Redis does (ARCHITECTURE.md: ~165 us
of Python per EVALSHA in a join endpoint); a herd of joins on one gateway process
shares that cost this way. Each call is still its own atomic script, with its own
result or error, so callers see exactly what ScriptRegistry.run would give them.
`command` carries a plain single-key command the same way (the join's session read,
accounts.sessions, and its challenge's replay record, queue_engine.challenges), its
reply raw.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import NoScriptError, ResponseError

from core.scripts import ScriptRegistry, parse_script_error

# A herd larger than this goes out as several pipelines, each on its own connection,
# so Redis runs one while this process writes the next and reads the last. One big
# batch leaves the two taking turns: 64 joiners in one batch of 64 ran at ~34,000
# joins/s with Redis at 0.73 of a core, in batches of 16 at ~48,000 with Redis at 0.99
# (docs/performance.md, "The batch size").
MAX_BATCH = 16
# Batches in flight at once on one process rarely pass a few; more take from the pool.
KEPT_CONNECTIONS = 4

# (script name, keys, args, future); a plain command has no script name, and its whole
# command line in `args`.
Call = tuple[str | None, list[str], list[Any], "asyncio.Future[Any]"]


def command_line(registry: ScriptRegistry, name: str | None, keys: list[str],
                 args: list[Any]) -> tuple[Any, ...]:
    """`EVALSHA sha numkeys keys... args...` for a script, `args` as they are for a plain
    command (name None)."""
    if name is None:
        return tuple(args)
    return ("EVALSHA", registry.sha(name), len(keys), *keys, *args)


def pack_evalshas(registry: ScriptRegistry,
                  calls: list[tuple[str | None, list[str], list[Any]]]) -> bytes:
    """Each call's command line (`command_line`), as one RESP2 write.

    hiredis's C packer: the same bytes as redis-py's asyncio packer at about a seventh
    of its CPU (docs/performance.md), and it refuses what Redis would misread (bool,
    None, containers: TypeError).
    """
    return b"".join(hiredis.pack_command(command_line(registry, name, keys, args))
                    for name, keys, args in calls)


class ScriptBatcher:
    def __init__(self, registry: ScriptRegistry, *, max_batch: int = MAX_BATCH,
                 kept_connections: int = KEPT_CONNECTIONS) -> None:
        self.registry = registry
        self.max_batch = max_batch
        self.kept_connections = kept_connections
        # Connections taken from the pool once and kept between batches (single node).
        self._kept: list[AbstractConnection] = []
        self._pending: list[Call] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        self.registry.check_keys(name, keys)
        return await self._queue(name, keys, args)

    async def command(self, *command: str | int) -> Any:
        """One plain command, e.g. `command("HMGET", key, field)`, in the next pipeline,
        its reply raw. For commands of a single key (on Cluster a pipeline routes each
        command by it)."""
        return await self._queue(None, [], list(command))

    def _queue(self, name: str | None, keys: list[str], args: list[Any]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((name, keys, args, future))
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[Call]) -> None:
        client = self.registry.client
        if len(batch) == 1 and not isinstance(client, Redis):
            name, keys, args, future = batch[0]
            await self._settle_single(name, keys, args, future)
            return
        try:
            if isinstance(client, Redis):
                # A batch of one too: redis-py's own call costs several times this
                # path's CPU, and under an even arrival most batches are of one.
                replies = await self._single_node_round_trip(client, batch)
            else:
                replies = await self._cluster_round_trip(batch)
        except Exception as exc:  # the connection failed: every caller learns it
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (name, keys, args, future), reply in zip(batch, replies, strict=True):
            if isinstance(reply, NoScriptError) and name is not None:
                # First use on this server (or after a restart): load it the slow way.
                await self._settle_single(name, keys, args, future)
            elif isinstance(reply, ResponseError):
                future.set_exception(parse_script_error(str(reply)) or reply)
            else:
                future.set_result(reply)

    async def _single_node_round_trip(self, client: Redis, batch: list[Call]) -> list[Any]:
        """One write of the whole batch, then its replies in order, on one pooled connection.

        Not through redis-py's Pipeline, which costs about three times as much CPU
        per command. Error replies are per call.
        """
        packed = pack_evalshas(self.registry, [(name, keys, args) for name, keys, args, _ in batch])
        pool = client.connection_pool
        connection = await self._connection(pool)
        try:
            await connection.send_packed_command(packed, check_health=False)
            replies: list[Any] = []
            # One deadline for the batch, not a timer per reply.
            async with asyncio.timeout(connection.socket_timeout):
                for _ in batch:
                    try:
                        replies.append(await connection.read_response(timeout=math.inf))
                    except ResponseError as error:  # its bytes were read: the stream is intact
                        replies.append(error)
        except BaseException:
            # A half-read batch leaves replies on the socket; never reuse it.
            await connection.disconnect(nowait=True)
            await pool.release(connection)
            raise
        if len(self._kept) < self.kept_connections:
            self._kept.append(connection)  # every reply read: ready for the next batch
        else:
            await pool.release(connection)
        return replies

    async def _connection(self, pool: ConnectionPool) -> AbstractConnection:
        """A kept connection if one is idle and still open, else one from the pool.

        The pool's own checkout takes a lock, starts a timer and peeks at the socket on
        every call, several times the CPU of writing a small batch. A kept connection
        is checked by what its reader already knows: a server that closed it (a
        restart) has left EOF there, so nothing is sent into a dead socket."""
        while self._kept:
            connection = self._kept.pop()
            reader = getattr(connection, "_reader", None)  # redis-py's asyncio StreamReader
            if connection.is_connected and reader is not None and not reader.at_eof():
                return connection
            await connection.disconnect(nowait=True)
            await pool.release(connection)
        fresh: AbstractConnection = await pool.get_connection()  # type: ignore[no-untyped-call]
        return fresh

    async def aclose(self) -> None:
        """Hand the kept connections back to the pool (before the client closes)."""
        kept, self._kept = self._kept, []
        if isinstance(self.registry.client, Redis):
            for connection in kept:
                await self.registry.client.connection_pool.release(connection)

    async def _cluster_round_trip(self, batch: list[Call]) -> list[Any]:
        pipe = self.registry.client.pipeline(transaction=False)
        for name, keys, args, _ in batch:
            # execute_command, not .evalsha: redis-py's cluster pipeline blocks the
            # named method, yet routes EVALSHA by its KEYS (one slot per drop).
            pipe.execute_command(*command_line(self.registry, name, keys, args))
        return list(await pipe.execute(raise_on_error=False))

    async def _settle_single(self, name: str | None, keys: list[str], args: list[Any],
                             future: asyncio.Future[Any]) -> None:
        try:
            if name is None:
                future.set_result(await self.registry.client.execute_command(*args))
            else:
                future.set_result(await self.registry.run(name, keys, args))
        except Exception as exc:
            future.set_exception(exc)

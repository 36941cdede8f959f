"""Auto-pipelined script calls (core.script_batching) give each caller exactly what the
registry would; exercised through the queue scripts, whose fixtures live here."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import Connection

from core.script_batching import KEPT_CONNECTIONS, MAX_BATCH, ScriptBatcher, pack_evalshas
from queue_engine.errors import DropNotSynced, QueueClosed
from queue_engine.line import join_line, open_line
from tests.queue_engine.conftest import T0, new_drop_id


@pytest.mark.parametrize("args", [
    [], [0, -1, 2**62, 2**70], ["plain", "ünïcødé", ""], [1.5, -0.25, 1e-7], [b"\x00\r\n raw"],
])
def test_batched_bytes_are_redis_pys_own_packing(scripts, args):
    keys = ["tq:{ev:7}:meta", "tq:{ev:7}:line"]
    calls = [("join_line", keys, args), ("open_line", keys[:1], args)]
    expected = b"".join(
        b"".join(Connection().pack_command("EVALSHA", scripts.sha(name), len(k), *k, *a))
        for name, k, a in calls)
    assert pack_evalshas(scripts, calls) == expected


@pytest.mark.parametrize("value", [True, None, [1], {"a": 1}])
def test_batched_packing_refuses_values_redis_would_misread(scripts, value):
    with pytest.raises(TypeError):
        pack_evalshas(scripts, [("join_line", ["k"], [value])])


async def test_concurrent_joins_share_pipelines_and_keep_their_own_answers(scripts, make_drop):
    batcher = ScriptBatcher(scripts)
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    places = await asyncio.gather(
        *(join_line(batcher, drop.drop_id, fan, now_ms=T0) for fan in range(1, 301)),
        *(join_line(batcher, drop.drop_id, fan, now_ms=T0 + 1) for fan in range(1, 11)),
    )
    assert sorted(p.seq for p in places[:300]) == list(range(1, 301))
    assert sum(p.created for p in places) == 300
    for place in places:
        assert place.ahead == place.seq - 1


async def test_errors_reach_only_their_caller(scripts, make_drop):
    batcher = ScriptBatcher(scripts)
    open_drop, closed = await make_drop(), await make_drop(state="closed")
    await open_line(scripts, open_drop.drop_id, now_ms=T0)
    results = await asyncio.gather(
        join_line(batcher, open_drop.drop_id, 1, now_ms=T0),
        join_line(batcher, closed.drop_id, 1, now_ms=T0),
        join_line(batcher, new_drop_id(), 1, now_ms=T0),
        return_exceptions=True,
    )
    assert results[0].seq == 1
    assert isinstance(results[1], QueueClosed)
    assert isinstance(results[2], DropNotSynced)
    with pytest.raises(ValueError, match="KEYS"):
        await batcher.run("join_line", ["only-one"], [1, T0])


async def test_a_flushed_script_cache_is_reloaded(scripts, make_drop, any_redis):
    batcher = ScriptBatcher(scripts)
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    await any_redis.script_flush()
    places = await asyncio.gather(
        *(join_line(batcher, drop.drop_id, fan, now_ms=T0) for fan in range(1, 21)))
    assert sorted(p.seq for p in places) == list(range(1, 21))


async def test_an_error_mid_batch_leaves_the_connection_in_step(scripts, make_drop):
    """Replies after an error reply still reach the right callers, and the connection is
    reused for the next batch (no stray reply left on it)."""
    batcher = ScriptBatcher(scripts)
    drop, closed = await make_drop(), await make_drop(state="closed")
    await open_line(scripts, drop.drop_id, now_ms=T0)
    for round_ in range(3):
        fans = range(round_ * 100 + 1, round_ * 100 + 51)
        results = await asyncio.gather(
            *(join_line(batcher, closed.drop_id if fan % 5 == 0 else drop.drop_id, fan,
                        now_ms=T0) for fan in fans),
            return_exceptions=True)
        for fan, result in zip(fans, results, strict=True):
            if fan % 5 == 0:
                assert isinstance(result, QueueClosed)
            else:
                assert not isinstance(result, BaseException), result
    seqs = [(await join_line(scripts, drop.drop_id, fan, now_ms=T0)).seq
            for fan in range(1, 301) if fan % 100 <= 50 and fan % 5]
    assert sorted(seqs) == list(range(1, len(seqs) + 1))


async def test_plain_reads_share_the_pipeline_with_scripts_and_get_raw_replies(
        scripts, make_drop, any_redis):
    batcher = ScriptBatcher(scripts)
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    key = f"tq:{{test:{drop.drop_id}}}:hash"
    await any_redis.hset(key, mapping={"a": "1"})
    read_both, place, read_missing = await asyncio.gather(
        batcher.command("HMGET", key, "a", "b"), join_line(batcher, drop.drop_id, 1, now_ms=T0),
        batcher.command("HMGET", key, "b"))
    assert (read_both, place.seq, read_missing) == ([b"1", None], 1, [None])
    assert await batcher.command("HMGET", key, "a") == [b"1"]  # alone: its own round trip


async def test_a_kept_connection_the_server_closed_is_not_used(scripts, make_drop, any_redis):
    """Batches keep their connection between round trips; one that Redis dropped (a
    restart, CLIENT KILL) is replaced from the pool, and no caller sees the loss."""
    if not isinstance(any_redis, Redis):
        pytest.skip("the cluster path goes through redis-py's cluster pipeline")
    batcher = ScriptBatcher(scripts)
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    await asyncio.gather(*(join_line(batcher, drop.drop_id, fan, now_ms=T0) for fan in (1, 2)))
    [kept] = batcher._kept
    await kept.send_command("CLIENT", "ID")
    await any_redis.execute_command("CLIENT", "KILL", "ID", await kept.read_response())
    await asyncio.sleep(0.2)  # the kept connection's reader receives the close
    places = await asyncio.gather(
        *(join_line(batcher, drop.drop_id, fan, now_ms=T0) for fan in (1, 2, 3)))
    assert [place.seq for place in places] == [1, 2, 3]
    await batcher.aclose()


async def test_a_herd_larger_than_a_batch_goes_out_as_pipelines_in_flight_together(
        scripts, make_drop, any_redis):
    """Redis runs one batch while the next is written: a 64-join herd goes out as
    batches in flight at once, each on its own connection (all of them kept afterwards)."""
    if not isinstance(any_redis, Redis):
        pytest.skip("the cluster path goes through redis-py's cluster pipeline")
    batcher = ScriptBatcher(scripts)
    assert 64 // MAX_BATCH >= KEPT_CONNECTIONS
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    places = await asyncio.gather(
        *(join_line(batcher, drop.drop_id, fan, now_ms=T0) for fan in range(1, 65)))
    assert sorted(p.seq for p in places) == list(range(1, 65))
    assert len(batcher._kept) == KEPT_CONNECTIONS
    await batcher.aclose()

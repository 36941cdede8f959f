"""join / open / heartbeat / leave through the registry, on single Redis and Cluster."""

from __future__ import annotations

import asyncio

import pytest

from core.redis_keys import DropKeys
from queue_engine.errors import (
    DropNotSynced,
    LotteryDrop,
    NotOpenYet,
    NotVisible,
    OpenPending,
    QueueClosed,
    SoldOut,
    VerifiedEmailRequired,
)
from queue_engine.line import drop_stale, heartbeat, join_line, leave_line, open_line, read_fans
from queue_engine.passes import admit_batch, complete_pass
from tests.queue_engine.conftest import T0, new_drop_id


async def test_join_after_open_takes_fifo_places_and_retries_return_the_same(scripts, make_drop):
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    first = await join_line(scripts, drop.drop_id, 1, now_ms=T0 + 1)
    second = await join_line(scripts, drop.drop_id, 2, now_ms=T0 + 2)
    again = await join_line(scripts, drop.drop_id, 1, now_ms=T0 + 3)
    assert (first.created, first.state, first.seq, first.ahead) == (True, "waiting", 1, 0)
    assert (second.created, second.seq, second.ahead) == (True, 2, 1)
    assert (again.created, again.seq, again.ahead) == (False, 1, 0)


async def test_a_verified_only_drop_refuses_an_unvouched_fan_and_changes_nothing(
        scripts, make_drop):
    drop = await make_drop(verified_only=True)
    await open_line(scripts, drop.drop_id, now_ms=T0)
    with pytest.raises(VerifiedEmailRequired):
        await join_line(scripts, drop.drop_id, 1, now_ms=T0 + 1)
    keys = DropKeys(drop.drop_id)
    assert await scripts.client.zcard(keys.line) == 0
    assert await scripts.client.hget(keys.fan_seq, "1") is None
    place = await join_line(scripts, drop.drop_id, 1, now_ms=T0 + 2, verified=True)
    assert (place.created, place.state, place.seq) == (True, "waiting", 1)


async def test_meta_synced_without_verified_only_counts_as_not_synced(scripts, make_drop):
    drop = await make_drop()
    await scripts.client.hdel(DropKeys(drop.drop_id).meta, "verified_only")
    with pytest.raises(DropNotSynced):
        await join_line(scripts, drop.drop_id, 1, now_ms=T0)


async def test_100_concurrent_duplicate_joins_get_one_place(scripts, make_drop):
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    await join_line(scripts, drop.drop_id, 5, now_ms=T0)
    places = await asyncio.gather(
        *(join_line(scripts, drop.drop_id, 9, now_ms=T0 + 1) for _ in range(100))
    )
    assert sum(place.created for place in places) == 1
    assert {(place.seq, place.ahead) for place in places} == {(2, 1)}
    assert await scripts.client.zcard(DropKeys(drop.drop_id).line) == 2


async def test_before_opens_at_fans_wait_in_the_prequeue(scripts, make_drop):
    drop = await make_drop()
    place = await join_line(scripts, drop.drop_id, 1, now_ms=T0 - 1000)
    again = await join_line(scripts, drop.drop_id, 1, now_ms=T0 - 500)
    assert (place.created, place.state, place.ahead, place.prequeue_size) == (
        True, "prequeue", None, 1)
    assert (again.created, again.state) == (False, "prequeue")


async def test_join_after_opens_at_waits_for_the_shuffle(scripts, make_drop):
    drop = await make_drop()
    await join_line(scripts, drop.drop_id, 1, now_ms=T0 - 1000)
    with pytest.raises(OpenPending):
        await join_line(scripts, drop.drop_id, 2, now_ms=T0)
    assert await open_line(scripts, drop.drop_id, now_ms=T0) == (True, 1)
    late = await join_line(scripts, drop.drop_id, 2, now_ms=T0 + 1)
    assert (late.state, late.seq, late.ahead) == ("waiting", 2, 1)


async def test_join_is_refused_with_a_reason(scripts, make_drop, any_redis):
    with pytest.raises(DropNotSynced):
        await join_line(scripts, new_drop_id(), 1, now_ms=T0)
    # Visibility is in the synced meta: a draft's drop is refused like no drop at all,
    # before any other answer (not even "not open yet" gives it away).
    draft = await make_drop(visible=False)
    for now_ms in (T0 - 700_000, T0 + 1):
        with pytest.raises(NotVisible):
            await join_line(scripts, draft.drop_id, 1, now_ms=now_ms)
    assert await any_redis.exists(DropKeys(draft.drop_id).fan_seq) == 0
    lottery = await make_drop(mode="lottery")
    with pytest.raises(LotteryDrop) as entered:
        await join_line(scripts, lottery.drop_id, 1, now_ms=T0)
    assert entered.value.fields["reason"] == "lottery"
    # Meta synced before it carried visibility is loaded again, never trusted.
    await any_redis.hdel(DropKeys(lottery.drop_id).meta, "visible")
    with pytest.raises(DropNotSynced):
        await join_line(scripts, lottery.drop_id, 1, now_ms=T0)
    early = await make_drop()
    with pytest.raises(NotOpenYet) as not_open:
        await join_line(scripts, early.drop_id, 1, now_ms=T0 - 700_000)
    assert not_open.value.fields["prequeue_opens_at_ms"] == T0 - 600_000
    for state in ("closed", "cancelled"):
        closed = await make_drop(state=state)
        with pytest.raises(QueueClosed) as refused:
            await join_line(scripts, closed.drop_id, 1, now_ms=T0)
        assert refused.value.fields["reason"] == state
    ended = await make_drop()
    with pytest.raises(QueueClosed) as refused:
        await join_line(scripts, ended.drop_id, 1, now_ms=ended.closes_at_ms)
    assert refused.value.fields["reason"] == "ended"
    sold = await make_drop()
    await any_redis.hset(DropKeys(sold.drop_id).meta, "sold_out", "1")
    with pytest.raises(SoldOut):
        await join_line(scripts, sold.drop_id, 1, now_ms=T0)
    assert await any_redis.exists(DropKeys(sold.drop_id).fan_seq) == 0
    # Every seat in a cart is not sold out: carts expire, so fans still join the line.
    await any_redis.hset(DropKeys(sold.drop_id).meta, "sold_out", "held")
    await open_line(scripts, sold.drop_id, now_ms=T0)
    assert (await join_line(scripts, sold.drop_id, 1, now_ms=T0)).state == "waiting"


async def test_open_happens_once_and_not_before_opens_at(scripts, make_drop):
    drop = await make_drop()
    for fan in range(1, 6):
        await join_line(scripts, drop.drop_id, fan, now_ms=T0 - 100)
    with pytest.raises(Exception, match="NOT_YET"):
        await open_line(scripts, drop.drop_id, now_ms=T0 - 1)
    assert await open_line(scripts, drop.drop_id, now_ms=T0) == (True, 5)
    assert await open_line(scripts, drop.drop_id, now_ms=T0 + 5) == (False, 5)
    readout = await read_fans(scripts, drop.drop_id, [1, 2, 3, 4, 5], now_ms=T0 + 5)
    assert sorted(s.seq for s in readout.standings) == [1, 2, 3, 4, 5]
    assert sorted(s.ahead or 0 for s in readout.standings) == [0, 1, 2, 3, 4]


async def test_heartbeat_keeps_a_place_and_silence_past_grace_loses_it(scripts, make_drop):
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    for fan in (1, 2, 3):
        await join_line(scripts, drop.drop_id, fan, now_ms=T0)
    grace = 60_000
    assert await heartbeat(scripts, drop.drop_id, [1, 3], now_ms=T0 + 50_000) == [True, True]
    removed = await drop_stale(scripts, drop.drop_id, now_ms=T0 + 59_000,
                               stale_before_ms=T0 + 59_000 - grace)
    assert removed.from_line == 0  # within the grace period: nobody loses a place
    removed = await drop_stale(scripts, drop.drop_id, now_ms=T0 + 61_000,
                               stale_before_ms=T0 + 61_000 - grace)
    assert removed.from_line == 1
    readout = await read_fans(scripts, drop.drop_id, [1, 2, 3], now_ms=T0 + 61_000)
    assert [s.state for s in readout.standings] == ["waiting", "none", "waiting"]
    assert [s.ahead for s in readout.standings] == [0, None, 1]
    assert readout.departed_total == 1
    assert await heartbeat(scripts, drop.drop_id, [2], now_ms=T0 + 62_000) == [False]
    # Coming back after the grace period means the back of the line.
    back = await join_line(scripts, drop.drop_id, 2, now_ms=T0 + 62_000)
    assert (back.created, back.seq, back.ahead) == (True, 4, 2)


async def test_leave_frees_the_place_and_logs_the_departure(scripts, make_drop, any_redis):
    drop = await make_drop()
    await join_line(scripts, drop.drop_id, 7, now_ms=T0 - 10)
    removed = await leave_line(scripts, drop.drop_id, [7])
    assert (removed.from_line, removed.from_prequeue) == (0, 1)
    await open_line(scripts, drop.drop_id, now_ms=T0)
    for fan in (1, 2, 3):
        await join_line(scripts, drop.drop_id, fan, now_ms=T0)
    removed = await leave_line(scripts, drop.drop_id, [2, 99])
    assert removed.from_line == 1
    keys = DropKeys(drop.drop_id)
    assert await any_redis.lrange(keys.departures, 0, -1) == [b"2"]
    readout = await read_fans(scripts, drop.drop_id, [3], now_ms=T0)
    assert readout.standings[0].ahead == 1


async def test_a_fan_whose_pass_ended_may_join_again_at_the_back(scripts, make_drop):
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    await join_line(scripts, drop.drop_id, 1, now_ms=T0)
    await join_line(scripts, drop.drop_id, 2, now_ms=T0)
    await admit_batch(scripts, drop.drop_id, now_ms=T0 + 200)  # 2 tokens after 200 ms at 600/min
    admitted = await join_line(scripts, drop.drop_id, 1, now_ms=T0 + 300)
    assert (admitted.created, admitted.state, admitted.seq) == (False, "admitted", 1)
    assert admitted.pass_id and admitted.pass_expires_ms == T0 + 200 + 600_000
    assert await complete_pass(scripts, drop.drop_id, 1, now_ms=T0 + 400)
    rejoined = await join_line(scripts, drop.drop_id, 1, now_ms=T0 + 500)
    assert (rejoined.created, rejoined.state, rejoined.seq, rejoined.ahead) == (
        True, "waiting", 3, 0)

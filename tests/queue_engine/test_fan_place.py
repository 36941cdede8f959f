"""The fanseq value '<seq>:<heartbeat ms>' (lua/includes/fan_place.lua): the bounded sweep,
admission skipping a silent head, and places written before the format (a drop upgraded
mid-sale). On single Redis and Cluster."""

from __future__ import annotations

from core.redis_keys import DropKeys
from queue_engine.line import drop_stale, heartbeat, join_line, open_line, read_fans
from queue_engine.passes import admit_batch
from tests.queue_engine.conftest import T0

GRACE = 60_000


async def test_a_place_holds_its_seq_and_last_heartbeat(scripts, make_drop, any_redis):
    drop = await make_drop()
    await join_line(scripts, drop.drop_id, 5, now_ms=T0 - 100)
    assert await any_redis.hget(DropKeys(drop.drop_id).fan_seq, "5") == b"pre:%d" % (T0 - 100)
    await open_line(scripts, drop.drop_id, now_ms=T0)
    # The shuffle keeps the pre-queue heartbeat: silence before the opening counts.
    assert await any_redis.hget(DropKeys(drop.drop_id).fan_seq, "5") == b"1:%d" % (T0 - 100)
    await heartbeat(scripts, drop.drop_id, [5], now_ms=T0 + 7)
    assert await any_redis.hget(DropKeys(drop.drop_id).fan_seq, "5") == b"1:%d" % (T0 + 7)


async def test_the_sweep_goes_round_a_large_line_in_bounded_steps(scripts, make_drop):
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    # Past the compact-encoding limit (512 entries on Redis 6.2): a hash table, a real cursor.
    fans = list(range(1, 1201))
    for fan in fans:
        await join_line(scripts, drop.drop_id, fan, now_ms=T0)
    await heartbeat(scripts, drop.drop_id, fans[::2], now_ms=T0 + 50_000)
    now = T0 + 61_000
    first = await drop_stale(scripts, drop.drop_id, now_ms=now, stale_before_ms=now - GRACE,
                             scan_count=20)
    assert 0 < first.from_line < 600  # one step sees only part of the line
    removed, steps = first.from_line, 1
    while removed < 600 and steps < 500:
        step = await drop_stale(scripts, drop.drop_id, now_ms=now, stale_before_ms=now - GRACE,
                                scan_count=20)
        removed, steps = removed + step.from_line, steps + 1
    assert removed == 600
    readout = await read_fans(scripts, drop.drop_id, fans, now_ms=now)
    assert [s.state for s in readout.standings] == ["waiting", "none"] * 600
    assert readout.departed_total == 600


async def test_admission_skips_a_silent_head_the_sweep_has_not_reached(scripts, make_drop):
    drop = await make_drop(admit_per_minute=600)
    await open_line(scripts, drop.drop_id, now_ms=T0)
    for fan in (1, 2, 3):
        await join_line(scripts, drop.drop_id, fan, now_ms=T0)
    await heartbeat(scripts, drop.drop_id, [2, 3], now_ms=T0 + 59_000)
    now = T0 + 61_000
    result = await admit_batch(scripts, drop.drop_id, now_ms=now, max_per_call=1,
                               stale_before_ms=now - GRACE)
    assert (result.admitted, result.line_length) == (1, 1)
    readout = await read_fans(scripts, drop.drop_id, [1, 2, 3], now_ms=now)
    assert [s.state for s in readout.standings] == ["none", "admitted", "waiting"]
    assert readout.departed_total == 1


async def test_an_old_format_place_keeps_its_fan_for_one_more_grace_period(
        scripts, make_drop, any_redis):
    drop = await make_drop()
    await open_line(scripts, drop.drop_id, now_ms=T0)
    await join_line(scripts, drop.drop_id, 9, now_ms=T0)
    keys = DropKeys(drop.drop_id)
    await any_redis.hset(keys.fan_seq, "9", "1")  # as written before the heartbeat moved in
    now = T0 + 120_000
    swept = await drop_stale(scripts, drop.drop_id, now_ms=now, stale_before_ms=now - GRACE)
    assert swept.from_line == 0
    assert await any_redis.hget(keys.fan_seq, "9") == b"1:%d" % now
    later = now + GRACE + 1
    swept = await drop_stale(scripts, drop.drop_id, now_ms=later, stale_before_ms=later - GRACE)
    assert swept.from_line == 1

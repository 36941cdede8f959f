"""admit (paced by rate and max_active), complete, revoke and expire passes."""

from __future__ import annotations

from core.redis_keys import DropKeys
from queue_engine.line import join_line, open_line, read_fans
from queue_engine.passes import admit_batch, complete_pass, expire_passes, revoke_pass
from tests.queue_engine.conftest import T0


async def _line_of(scripts, make_drop, fans: int, **config):
    drop = await make_drop(**config)
    await open_line(scripts, drop.drop_id, now_ms=T0)
    for fan in range(1, fans + 1):
        await join_line(scripts, drop.drop_id, fan, now_ms=T0)
    return drop


async def test_admission_follows_the_rate_in_line_order(scripts, make_drop):
    drop = await _line_of(scripts, make_drop, 50, admit_per_minute=60)
    counts = []
    for second in range(1, 11):
        result = await admit_batch(scripts, drop.drop_id, now_ms=T0 + second * 1000)
        counts.append(result.admitted)
    assert counts == [1] * 10
    readout = await read_fans(scripts, drop.drop_id, list(range(1, 13)), now_ms=T0 + 10_000)
    assert [s.state for s in readout.standings] == ["admitted"] * 10 + ["waiting"] * 2
    assert readout.standings[10].ahead == 0
    assert readout.admitted_total == 10


async def test_tokens_bank_only_a_short_burst(scripts, make_drop):
    drop = await _line_of(scripts, make_drop, 100, admit_per_minute=600)
    # Ten idle minutes bank at most BURST_MS (2 s) of the rate: 20 fans, not 6000.
    result = await admit_batch(scripts, drop.drop_id, now_ms=T0 + 600_000)
    assert result.admitted == 20
    assert result.line_length == 80


async def test_max_active_caps_live_passes_and_freed_slots_refill(scripts, make_drop, any_redis):
    drop = await _line_of(scripts, make_drop, 10, admit_per_minute=6000, max_active=3)
    first = await admit_batch(scripts, drop.drop_id, now_ms=T0 + 1000)
    assert (first.admitted, first.live_passes) == (3, 3)
    assert (await admit_batch(scripts, drop.drop_id, now_ms=T0 + 2000)).admitted == 0
    assert await complete_pass(scripts, drop.drop_id, 1, now_ms=T0 + 2100)
    assert not await complete_pass(scripts, drop.drop_id, 1, now_ms=T0 + 2100)
    assert await revoke_pass(scripts, drop.drop_id, 2, now_ms=T0 + 2100)
    result = await admit_batch(scripts, drop.drop_id, now_ms=T0 + 3000)
    assert (result.admitted, result.live_passes) == (2, 3)
    meta = await any_redis.hgetall(DropKeys(drop.drop_id).meta)
    assert (meta[b"completed"], meta[b"revoked"], meta[b"admitted"]) == (b"1", b"1", b"5")


async def test_pass_liveness_contract_keys(scripts, make_drop, any_redis):
    drop = await _line_of(scripts, make_drop, 1, session_seconds=60)
    await admit_batch(scripts, drop.drop_id, now_ms=T0 + 500)
    keys = DropKeys(drop.drop_id)
    pass_id = await any_redis.hget(keys.passes, "1")
    assert pass_id and await any_redis.zscore(keys.active, "1") == T0 + 500 + 60_000
    # Revoking only a given pass id leaves another pass alone.
    assert not await revoke_pass(scripts, drop.drop_id, 1, now_ms=T0 + 600, pass_id="other")
    assert await any_redis.hget(keys.passes, "1") == pass_id


async def test_expired_passes_free_their_slot(scripts, make_drop, any_redis):
    drop = await _line_of(scripts, make_drop, 4, max_active=2, session_seconds=60,
                          admit_per_minute=6000)
    await admit_batch(scripts, drop.drop_id, now_ms=T0 + 1000)
    end = T0 + 1000 + 60_000
    assert await expire_passes(scripts, drop.drop_id, now_ms=end - 1) == 0
    readout = await read_fans(scripts, drop.drop_id, [1], now_ms=end)
    assert readout.standings[0].state == "ended"  # expiry == now is already over
    assert await expire_passes(scripts, drop.drop_id, now_ms=end) == 2
    keys = DropKeys(drop.drop_id)
    assert await any_redis.zcard(keys.active) == 0 and await any_redis.hlen(keys.passes) == 0
    assert not await complete_pass(scripts, drop.drop_id, 1, now_ms=end)
    assert (await admit_batch(scripts, drop.drop_id, now_ms=end + 1000)).admitted == 2


async def test_no_admission_while_paused_closed_or_sold_out(scripts, make_drop, any_redis):
    waiting = await make_drop()
    assert (await admit_batch(scripts, waiting.drop_id, now_ms=T0)).reason == "not_open"
    for state, reason in (("paused", "paused"), ("closed", "closed"), ("sold_out", "sold_out")):
        drop = await _line_of(scripts, make_drop, 3)
        await any_redis.hset(DropKeys(drop.drop_id).meta, "state", state)
        result = await admit_batch(scripts, drop.drop_id, now_ms=T0 + 5000)
        assert (result.admitted, result.reason) == (0, reason)
    drop = await _line_of(scripts, make_drop, 3)
    await any_redis.hset(DropKeys(drop.drop_id).meta, "sold_out", "1")
    assert (await admit_batch(scripts, drop.drop_id, now_ms=T0 + 5000)).reason == "sold_out"
    # Every seat in a cart: nobody is admitted until a cart frees seats (or sells out).
    await any_redis.hset(DropKeys(drop.drop_id).meta, "sold_out", "held")
    assert (await admit_batch(scripts, drop.drop_id, now_ms=T0 + 5500)).reason == "all_held"
    await any_redis.hdel(DropKeys(drop.drop_id).meta, "sold_out")
    assert (await admit_batch(scripts, drop.drop_id, now_ms=T0 + 6000)).admitted == 3
    ended = await _line_of(scripts, make_drop, 3)
    result = await admit_batch(scripts, ended.drop_id, now_ms=ended.closes_at_ms)
    assert result.reason == "closed"

"""FIFO among present fans, with random heartbeats and leavers; streamed positions
(counters + departure log) always equal the exact per-fan positions."""

from __future__ import annotations

import random

from queue_engine.line import drop_stale, heartbeat, join_line, leave_line, open_line, read_fans
from queue_engine.passes import admit_batch
from queue_engine.positions import ahead_now, read_status
from tests.queue_engine.conftest import T0

GRACE_MS = 10_000


async def test_admission_order_is_join_order_among_present_fans(scripts, make_drop):
    rng = random.Random(20261125)
    drop = await make_drop(admit_per_minute=120, max_active=100_000)
    await open_line(scripts, drop.drop_id, now_ms=T0)
    fans = list(range(1, 121))
    now = T0
    for fan in fans:
        await join_line(scripts, drop.drop_id, fan, now_ms=now)
    silent = set(rng.sample(fans, 25))  # stop heart-beating: dropped after the grace period
    leavers = set(rng.sample(sorted(set(fans) - silent), 15))
    status = await read_status(scripts, drop.drop_id, now_ms=now)
    tracked = {s.fan_id: s for s in (await read_fans(scripts, drop.drop_id, fans,
                                                      now_ms=now)).standings}
    ahead = {fan: s.ahead for fan, s in tracked.items()}
    admitted_seen, departed_seen = status.admitted_total, status.departed_total
    admitted_order: list[int] = []
    admitted_at: dict[int, int] = {}
    for _ in range(120):
        now += 500
        present = [f for f in fans if f not in silent and rng.random() < 0.5]
        await heartbeat(scripts, drop.drop_id, present, now_ms=now)
        if leavers and rng.random() < 0.2:
            await leave_line(scripts, drop.drop_id, [leavers.pop()])
        await drop_stale(scripts, drop.drop_id, now_ms=now, stale_before_ms=now - GRACE_MS)
        await admit_batch(scripts, drop.drop_id, now_ms=now)
        truth = {s.fan_id: s for s in (await read_fans(scripts, drop.drop_id, fans,
                                                        now_ms=now)).standings}
        newly = sorted((s.seq, f) for f, s in truth.items()
                       if s.state == "admitted" and f not in admitted_order)
        admitted_order += [f for _, f in newly]
        admitted_at.update({f: now for _, f in newly})
        waiting = [s.seq for s in truth.values() if s.state == "waiting"]
        if admitted_order and waiting:
            # Nobody admitted while someone who joined earlier still waits.
            assert max(truth[f].seq for f in admitted_order) < min(waiting)
        # Streamed positions: one snapshot, applied to every tracked fan.
        snap = await read_status(scripts, drop.drop_id, now_ms=now,
                                 departures_from=departed_seen, max_departures=10_000)
        new_departures = sorted(snap.departures)
        for fan, value in list(ahead.items()):
            if value is None or truth[fan].state != "waiting":
                ahead[fan] = None
                continue
            ahead[fan] = ahead_now(value, truth[fan].seq,
                                   snap.admitted_total - admitted_seen, new_departures)
            assert ahead[fan] == truth[fan].ahead
        admitted_seen, departed_seen = snap.admitted_total, snap.departed_total
    # Joined in fan-id order, so FIFO means increasing ids; silent fans were only
    # admitted while their grace period lasted, then skipped.
    assert admitted_order == sorted(admitted_order)
    assert len(admitted_order) > 60
    assert all(admitted_at[f] <= T0 + GRACE_MS for f in silent & set(admitted_order))
    assert silent - set(admitted_order)  # some silent fans were skipped for good

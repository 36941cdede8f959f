"""Drop phase, fan state and estimated wait from a status snapshot (pure, no Redis)."""

from __future__ import annotations

from queue_engine.positions import DropStatus, ahead_now, fan_state

T = 1_800_000_000_000


def status(now: int = T, admitted_in_window: int = 0, **meta: str) -> DropStatus:
    fields = {"synced": "1", "state": "scheduled", "prequeue_opens_at_ms": str(T - 60_000),
              "opens_at_ms": str(T), "closes_at_ms": str(T + 3_600_000),
              "admit_per_minute": "120", "max_active": "10"}
    fields.update(meta)
    return DropStatus(drop_id=1, read_at_ms=now, meta=fields, line_length=100,
                      prequeue_size=0, live_passes=0, admitted_in_window=admitted_in_window)


def test_phases() -> None:
    assert status(now=T - 120_000).phase == "scheduled"
    assert status(now=T - 1).phase == "prequeue"
    assert status(opened="1").phase == "open"
    assert status(opened="1", state="paused").phase == "paused"
    assert status(opened="1", sold_out="1").phase == "sold_out"
    assert status(opened="1", state="closed").phase == "closed"
    assert status(now=T + 3_600_000, opened="1").phase == "closed"
    assert status(opened="1", state="cancelled").phase == "cancelled"
    assert status(opened="1", sold_out="surprise").phase == "sold_out"  # unknown reads as sold
    assert DropStatus(1, T, {}, 0, 0, 0, 0).phase == "unknown"


def test_fan_state_lets_closed_and_sold_out_win() -> None:
    assert fan_state("open", "waiting") == "waiting"
    assert fan_state("open", "ended") == "expired"
    assert fan_state("sold_out", "admitted") == "sold_out"
    assert fan_state("closed", "prequeue") == "closed"
    assert fan_state("cancelled", "waiting") == "closed"
    assert fan_state("open", "none") is None


def test_estimated_wait_uses_the_observed_rate() -> None:
    opened = {"opened": "1", "opened_at_ms": str(T)}
    # Too little history: the configured 120/min -> 10 people take 5 s.
    assert status(now=T + 5000, **opened).estimated_wait_s(10) == 5
    # A minute in, only 30 admitted in the last minute: 10 people take 20 s.
    assert status(now=T + 120_000, admitted_in_window=30, **opened).estimated_wait_s(10) == 20
    # Nobody admitted for a whole minute (max_active full): unknown, not a made-up number.
    assert status(now=T + 120_000, **opened).estimated_wait_s(10) is None
    assert status(now=T + 120_000, state="paused", **opened).estimated_wait_s(10) is None
    # Every seat in a cart: the line stands still until carts expire; no estimate either.
    in_carts = status(now=T + 5000, sold_out="held", **opened)
    assert (in_carts.phase, in_carts.tickets_in_carts) == ("open", True)
    assert in_carts.estimated_wait_s(10) is None


def test_the_dashboards_observed_rate_never_falls_back_to_the_setting() -> None:
    opened = {"opened": "1", "opened_at_ms": str(T)}
    assert status(now=T - 1).observed_admissions_per_minute() is None  # not open yet
    # 5 s and 30 s in, nobody admitted: 0, where the estimate would use the configured 120.
    assert status(now=T + 5000, **opened).observed_admissions_per_minute() == 0
    assert status(now=T + 30_000, **opened).observed_admissions_per_minute() == 0
    assert status(now=T + 30_000, admitted_in_window=20, **opened
                  ).observed_admissions_per_minute() == 40  # 20 in 30 s
    assert status(now=T + 120_000, admitted_in_window=30, **opened
                  ).observed_admissions_per_minute() == 30


def test_ahead_now() -> None:
    assert ahead_now(10, 50, 3, [12, 49, 50, 70]) == 5
    assert ahead_now(2, 50, 3, []) == -1  # the third admission was this fan

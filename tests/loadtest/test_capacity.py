"""loadtest/capacity.py: the capacity model's arithmetic and `ticketq capacity`'s output."""

from __future__ import annotations

import pytest

from loadtest.capacity import FIGURES, Drop, Figures, plan
from ticketq.cli import main

FIGS = Figures(machine="test box", date="2026-12-03", join_cpu_s=0.0002, redis_join_s=0.00002,
               socket_kib=16.0, push_cpu_s=0.00002, push_interval_s=2.0,
               redis_bytes_per_fan=256, order_cpu_s=0.01)


def test_the_plan_is_the_documented_arithmetic() -> None:
    result = plan(Drop(fans=100_000, arrival_seconds=100, admit_per_minute=6000), FIGS)
    assert result.join_rate == 1000
    # CPU: 1000 * 0.0002 + 100000 / 2 * 0.00002 + 100 * 0.01 = 0.2 + 1 + 1 = 2.2 cores, at 50 %.
    assert result.gateway_cores == 5
    assert result.socket_memory_mib == pytest.approx(100_000 * 16 / 1024)
    assert result.redis_shard_load == pytest.approx(0.02)
    assert result.fits_one_shard
    assert result.redis_memory_mib == pytest.approx(100_000 * 256 / 2**20)
    assert result.postgres_cores == 2  # 100 orders/s at 50 %


def test_a_drop_too_fast_for_one_slot_says_so() -> None:
    result = plan(Drop(fans=1_000_000, arrival_seconds=10, admit_per_minute=0), FIGS)
    assert result.redis_shard_load == pytest.approx(2.0)
    assert not result.fits_one_shard


def test_the_committed_figures_load() -> None:
    figures = Figures.load(FIGURES)
    assert figures.join_cpu_s > 0 and figures.socket_kib > 0 and figures.date


def test_the_command_prints_the_plan_and_its_assumptions(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["capacity", "--fans", "100000", "--arrival-seconds", "60",
                 "--admit-per-minute", "3000"]) == 0
    out = capsys.readouterr().out
    assert "100,000 fans arriving over 60 s" in out
    assert "gateway cores" in out and "Postgres max_connections" in out
    assert "assumptions:" in out and "capacity_figures.json" in out


def test_the_command_refuses_nonsense(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["capacity", "--fans", "0", "--arrival-seconds", "60", "--admit-per-minute", "1"])
    assert stopped.value.code == 2

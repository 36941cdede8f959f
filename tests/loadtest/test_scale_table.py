"""The scale curve's rows, from a report.json recorded by a real 100-fan step
(`python -m loadtest.bench_scale --steps 100 --duration 15`, trimmed to the fields
the table reads)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from loadtest.scale_table import markdown, row_of, saturated_side, with_cost_ratios

RECORDED = Path(__file__).with_name("scale_report_100_fans.json")


@pytest.fixture
def report() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(RECORDED.read_text())
    return loaded


def test_a_row_reads_every_figure_from_the_report(report: dict[str, Any]) -> None:
    row = row_of(report, cpu_count=2, load_before=2.6)

    assert row.fans == 100
    assert (row.join_p50_ms, row.join_p99_ms) == (198.5, 468.5)
    assert row.tick_to_fan_lag_p99_ms == 267.7
    assert row.admission_accuracy == 1.589
    # gateway + worker + redis + postgres = 0.2 cores; x 60 s / 100 fans.
    assert row.server_cpu_s_per_fan_minute == pytest.approx(0.12)
    # The gateway grew 150384 - 142136 KiB while at most 73 fans waited on their socket.
    assert row.peak_sockets == 73
    assert row.kib_per_socket == pytest.approx((150384 - 142136) / 73, abs=0.05)
    assert row.saturated.startswith("neither")
    assert row.all_ok and row.load_before == 2.6


def test_cost_ratio_compares_each_step_with_the_first(report: dict[str, Any]) -> None:
    first = row_of(report, cpu_count=2)
    dearer = replace(first, fans=1000, server_cpu_s_per_fan_minute=0.3)
    unknown = replace(first, fans=2000, server_cpu_s_per_fan_minute=None)

    ratios = [row.cost_ratio for row in with_cost_ratios([first, dearer, unknown])]

    assert ratios == [1.0, 2.5, None]


def test_marginal_cost_is_the_extra_fans_share_of_the_extra_cost(
    report: dict[str, Any],
) -> None:
    first = row_of(report, cpu_count=2)  # 0.2 server cores, 8248 KiB growth, 73 sockets
    bigger = replace(first, fans=1100, server_cores=0.7, gateway_growth_kib=8248 + 20_000,
                     peak_sockets=73 + 1000)

    base, grown = with_cost_ratios([first, bigger])

    assert base.marginal_cpu_s_per_fan_minute is None and base.marginal_kib_per_socket is None
    assert grown.marginal_cpu_s_per_fan_minute == pytest.approx(0.5 * 60 / 1000)
    assert grown.marginal_kib_per_socket == 20.0


def test_a_busy_gateway_is_the_saturated_side(report: dict[str, Any]) -> None:
    run = {**report["run"], "cpu_cores_busy": {**report["run"]["cpu_cores_busy"],
                                                "gateway": 0.95}}
    assert saturated_side(run, cpu_count=2).startswith("server (gateway 95%")


def test_locust_saturates_by_its_cores_or_by_its_own_warning(report: dict[str, Any]) -> None:
    busy = {**report["run"]["cpu_cores_busy"], "locust-worker-0": 0.9, "locust-worker-1": 0.9}
    by_cores = {**report["run"], "cpu_cores_busy": busy}
    warned = {**report["run"], "load_generator_saturated": True}

    assert saturated_side(by_cores, cpu_count=2).startswith("load generator")
    assert saturated_side(warned, cpu_count=2).startswith("load generator")


def test_a_machine_busy_with_other_work_is_named(report: dict[str, Any]) -> None:
    busy = {**report["run"]["cpu_cores_busy"], "machine (all processes)": 1.9}
    assert saturated_side({**report["run"], "cpu_cores_busy": busy}, 2).startswith("machine")


def test_the_markdown_table_has_one_row_per_step(report: dict[str, Any]) -> None:
    rows = with_cost_ratios([row_of(report, cpu_count=2, load_before=2.6)])
    failed = replace(rows[0], fans=1000, all_ok=False)

    rendered = markdown([*rows, failed], "Measured on a test machine.").splitlines()

    assert rendered[0] == "Measured on a test machine."
    assert rendered[3] == "|" + "---|" * 12
    assert rendered[4].startswith(
        "| 100 | 198.5 / 468.5 | 267.7 | 0.12 | 1.0 | - | 113.0 (73) | - | 1.589 | neither")
    assert rendered[5].startswith("| 1,000 |") and rendered[5].endswith("| **failed** |")


def test_the_busiest_seconds_decide_over_the_runs_average(report: dict[str, Any]) -> None:
    """A spike saturates the gateway for seconds; the run's average dilutes that."""
    calm = {**report["run"]["cpu_cores_busy"], "gateway": 0.3}
    spiked = {**report["run"], "cpu_cores_busy": calm, "peak_cores_busy": {"gateway": 0.97}}

    assert saturated_side({**report["run"], "cpu_cores_busy": calm}, 2).startswith("neither")
    assert saturated_side(spiked, 2) == "server (gateway 97% of its cores at peak)"


def test_the_busiest_of_several_gateway_processes_counts(report: dict[str, Any]) -> None:
    """The Cluster shape runs gateway-0, gateway-1, ... each one process on one core."""
    peak = {"gateway-0": 0.4, "gateway-1": 0.92, "gateway-2": 0.1}
    run = {**report["run"], "peak_cores_busy": peak}
    assert saturated_side(run, 2).startswith("server (gateway 92%")


def test_a_busy_shop_gateway_is_named_beside_the_waiting_room(report: dict[str, Any]) -> None:
    """simulate --shop-workers: the checkout's own gateway saturating is a server finding."""
    peak = {"gateway": 0.3, "shop": 0.9}
    run = {**report["run"], "peak_cores_busy": peak, "shop_workers": 1}
    assert saturated_side(run, 2) == "server (shop 90% of its cores at peak)"
    assert saturated_side({**run, "shop_workers": 2}, 2).startswith("neither")

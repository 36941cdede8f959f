"""The cluster section of a report, on hand-made fan records: each invariant can fail."""

from __future__ import annotations

from typing import Any

from loadtest.cluster_report import BACKLOG_FLOOR, backlogged_pace, cluster_section, gateway_loss

GATEWAYS = ["gateway-0", "gateway-1", "gateway-2"]


def fan(number: int, gateways: list[str], **extra: Any) -> dict[str, Any]:
    return {"fan": number, "kind": "fan", "ws_gateways": gateways, "state": "ticketed", **extra}


def paced(count: int, per_minute: int, *, stall_after: int | None = None) -> list[dict[str, Any]]:
    """`count` fans who all joined at 0 and were admitted at `per_minute` (one per tick)."""
    step = 60_000 / per_minute
    fans = []
    for i in range(count):
        admitted = i * step + (10_000 if stall_after is not None and i >= stall_after else 0)
        fans.append({"fan": i, "joined_ms": 1, "join_status": 201,
                     "admitted_ms": 1_000 + admitted})
    return fans


def test_a_fan_who_moved_gateways_and_kept_its_place_counts() -> None:
    fans = [fan(1, ["gateway-2", "gateway-0"]), fan(2, ["gateway-1"])]
    loss = gateway_loss(fans, "gateway-2")
    assert (loss["fans_on_killed"], loss["reconnected"], loss["kept_place"]) == (1, 1, 1)


def test_a_fan_told_a_later_place_after_moving_did_not_keep_it() -> None:
    fans = [fan(1, ["gateway-2", "gateway-0"], position_rose=1)]
    section, invariants = cluster_section(
        fans, gateways=GATEWAYS, killed_gateway="gateway-2", balancer="haproxy",
        configured_per_minute=60, opens_at_ms=0, fairness={"discordant_pairs": 0},
    )
    assert section["gateway_loss"]["kept_place"] == 0
    assert invariants["fans_kept_place_after_gateway_loss"] is False
    assert invariants["positions_consistent_across_gateways"] is False


def test_no_fan_reconnecting_fails_the_loss_invariant() -> None:
    fans = [fan(1, ["gateway-2"]), fan(2, ["gateway-0"]), fan(3, ["gateway-1"])]
    _, invariants = cluster_section(
        fans, gateways=GATEWAYS, killed_gateway="gateway-2", balancer="dns",
        configured_per_minute=60, opens_at_ms=0, fairness={},
    )
    assert invariants["sockets_on_every_gateway"] is True
    assert invariants["fans_kept_place_after_gateway_loss"] is False


def test_a_gateway_without_sockets_fails() -> None:
    _, invariants = cluster_section(
        [fan(1, ["gateway-0"])], gateways=GATEWAYS, killed_gateway=None, balancer="haproxy",
        configured_per_minute=60, opens_at_ms=0, fairness={},
    )
    assert invariants["sockets_on_every_gateway"] is False
    assert "fans_kept_place_after_gateway_loss" not in invariants


def test_pace_is_measured_while_the_line_is_backlogged() -> None:
    pace = backlogged_pace(paced(120, 600), 600, opens_at_ms=0)
    assert pace["ratio"] is not None and abs(pace["ratio"] - 1) < 0.01


def test_a_stalled_pacer_is_outside_five_percent() -> None:
    pace = backlogged_pace(paced(120, 600, stall_after=60), 600, opens_at_ms=0)
    assert pace["ratio"] is not None and pace["ratio"] < 0.95


def test_an_empty_line_is_not_held_against_the_pacer() -> None:
    fans = paced(60, 600)
    # 60 more fans arrive long after the first 60 were admitted: the line was empty between.
    for i in range(60):
        at = 60_000 + i * 100
        fans.append({"fan": 100 + i, "joined_ms": at, "join_status": 201, "admitted_ms": at})
    pace = backlogged_pace(fans, 600, opens_at_ms=0)
    # The last few of the first 60 were admitted from a line shorter than a batch.
    assert pace["admissions_counted"] == 60 - (BACKLOG_FLOOR - 1)
    assert abs(pace["ratio"] - 1) < 0.05


def test_a_fan_admitted_before_an_earlier_joiner_breaks_consistency() -> None:
    _, invariants = cluster_section(
        [fan(1, ["gateway-0"])], gateways=["gateway-0"], killed_gateway=None, balancer="dns",
        configured_per_minute=60, opens_at_ms=0, fairness={"discordant_pairs": 1},
    )
    assert invariants["positions_consistent_across_gateways"] is False

"""The cluster shape's part of a drop's report: sockets per gateway, the fans of the
killed gateway, admission pace while the line was never empty, positions across gateways.

Pure functions of the fans' records (loadtest.fans writes `ws_gateways`, one entry per
socket, `position_rose` and `polled`), so tests/loadtest/test_cluster_report.py can check
them on hand-made records and each invariant can be seen to fail.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from loadtest.config import FINAL_STATES

PACE_TOLERANCE = 0.05  # the promise: admission within 5 % of the configured pace
LEFT_LINE = {"abandoned_queue", "sold_out", "closed"}
# Fans still waiting, by the clients' records, below which the line counts as empty: a
# fan's record says "joined" a moment before Redis has it in line, and a line of one or
# two limits a tick's batch as surely as an empty one.
BACKLOG_FLOOR = 3


def sockets_per_gateway(fans: list[dict[str, Any]], gateways: list[str]) -> dict[str, int]:
    counts = Counter(name for f in fans for name in f.get("ws_gateways", []))
    return {name: counts.get(name, 0) for name in gateways}


def gateway_loss(fans: list[dict[str, Any]], killed: str | None) -> dict[str, Any]:
    """Fans whose socket was on `killed` and who then connected to another gateway."""
    if killed is None:
        return {"killed": None, "fans_on_killed": 0, "reconnected": 0, "kept_place": 0}
    on_killed, moved, kept = 0, 0, 0
    lost_examples: list[dict[str, Any]] = []
    for fan in fans:
        names = fan.get("ws_gateways", [])
        if killed not in names:
            continue
        on_killed += 1
        last_on_killed = max(i for i, name in enumerate(names) if name == killed)
        if not any(name != killed for name in names[last_on_killed + 1 :]):
            continue  # its story on that socket ended before the kill (or never resumed)
        moved += 1
        # Kept its place: never told a later place, never fell back to polling, and its
        # story went on to a final state.
        if not fan.get("position_rose") and fan.get("state") in FINAL_STATES:
            kept += 1
        elif len(lost_examples) < 5:
            lost_examples.append({k: fan.get(k) for k in ("fan", "state", "ws_gateways")})
    return {
        "killed": killed,
        "fans_on_killed": on_killed,
        "reconnected": moved,
        "kept_place": kept,
        "lost_examples": lost_examples,
    }


def backlogged_pace(
    fans: list[dict[str, Any]], configured_per_minute: int, opens_at_ms: int
) -> dict[str, Any]:
    """Admissions per minute over the longest stretch in which fans were still waiting.

    Only then is the token bucket the limit: an empty line (or a sold-out drop) admits
    nobody, which says nothing about the pacer. The first tick's batch is left out of
    the count, since the window starts at it.
    """
    events: list[tuple[float, int, bool]] = []  # (ms, backlog change, is an admission)
    for fan in fans:
        if not fan.get("joined_ms") or fan.get("join_status") not in (200, 201):
            continue
        events.append((max(float(fan["joined_ms"]), float(opens_at_ms)), 1, False))
        if fan.get("admitted_ms"):
            events.append((float(fan["admitted_ms"]), -1, True))
        elif fan.get("state") in LEFT_LINE and fan.get("final_ms"):
            events.append((float(fan["final_ms"]), -1, False))
    events.sort(key=lambda e: (e[0], -e[1]))
    backlog = 0
    run: list[float] = []  # admission times of the current stretch
    best: list[float] = []  # ... and of the longest one
    for index, (ms, change, admitted) in enumerate(events):
        backlog += change
        last_of_instant = index + 1 == len(events) or events[index + 1][0] != ms
        if admitted:
            run.append(ms)
        if last_of_instant and backlog < BACKLOG_FLOOR:
            if len(run) > len(best):
                best = run
            run = []
    if len(run) > len(best):
        best = run
    result: dict[str, Any] = {"configured_per_minute": configured_per_minute,
                              "admissions_counted": len(best)}
    if len(best) < 3 or best[-1] <= best[0]:
        return {**result, "observed_per_minute": None, "ratio": None}
    first_batch = sum(1 for ms in best if ms == best[0])
    window_s = (best[-1] - best[0]) / 1000
    observed = (len(best) - first_batch) / window_s * 60
    return {
        **result,
        "window_s": round(window_s, 1),
        "observed_per_minute": round(observed, 1),
        "ratio": round(observed / configured_per_minute, 3),
    }


def cluster_section(
    fans: list[dict[str, Any]],
    *,
    gateways: list[str],
    killed_gateway: str | None,
    balancer: str,
    configured_per_minute: int,
    opens_at_ms: int,
    fairness: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, bool]]:
    """(the report's "cluster" section, its invariants)."""
    sockets = sockets_per_gateway(fans, gateways)
    loss = gateway_loss(fans, killed_gateway)
    pace = backlogged_pace(fans, configured_per_minute, opens_at_ms)
    rose = sum(int(f.get("position_rose") or 0) for f in fans)
    # Discordant pairs, not tau: fans admitted in one tick are ties, which lower tau-b.
    discordant = fairness.get("discordant_pairs")
    invariants = {
        "sockets_on_every_gateway": all(count > 0 for count in sockets.values()),
        "admission_pace_within_5pct": pace["ratio"] is not None
        and abs(pace["ratio"] - 1) <= PACE_TOLERANCE,
        # Every fan's place only moved forward, whichever gateway told it, and no fan was
        # admitted before one who joined earlier: one join order, shared by all gateways.
        "positions_consistent_across_gateways": rose == 0 and not discordant,
    }
    if killed_gateway is not None:
        invariants["fans_kept_place_after_gateway_loss"] = (
            loss["reconnected"] > 0 and loss["kept_place"] == loss["reconnected"]
        )
    section = {
        "balancer": balancer,
        "gateways": gateways,
        "sockets_per_gateway": sockets,
        "gateway_loss": loss,
        "admission_pace": pace,
        "position_rises_seen": rose,
        "fans_polling_fallback": sum(1 for f in fans if f.get("polled")),
    }
    return section, invariants

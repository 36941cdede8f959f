"""The rehearsal report: every number, how it was measured, and its invariants.

Inputs: the plan, the fans' and bots' records (client side), the ledger and
payment check and the outbox count (server side, loadtest.ledger_check and
loadtest.email_check) and Locust's CSV statistics.
Output: one JSON-able dict (written as report.json) that report_html renders.
docs/loadtest.md explains how to read each field.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from loadtest.config import FINAL_STATES, Plan
from loadtest.stats import rank_agreement, summary


def _csv_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def locust_requests(csv_prefix: Path) -> list[dict[str, Any]]:
    rows = []
    for row in _csv_rows(Path(f"{csv_prefix}_stats.csv")):
        if row.get("Name") == "Aggregated":
            continue
        rows.append(
            {
                "type": row.get("Type", ""),
                "name": row.get("Name", ""),
                "count": int(row.get("Request Count") or 0),
                "failures": int(row.get("Failure Count") or 0),
                "p50_ms": _number(row.get("50%")),
                "p95_ms": _number(row.get("95%")),
                "p99_ms": _number(row.get("99%")),
                "rps": _number(row.get("Requests/s")),
            }
        )
    return rows


def _number(raw: str | None) -> float | None:
    try:
        return round(float(raw), 1) if raw not in (None, "", "N/A") else None
    except ValueError:
        return None


def errors_by_kind(csv_prefix: Path, records: list[dict[str, Any]]) -> dict[str, int]:
    kinds: Counter[str] = Counter()
    for row in _csv_rows(Path(f"{csv_prefix}_failures.csv")):
        # Group "HTTP 503: busy, retry in 3 s" and friends under their status and request.
        error = re.sub(r"\d+(\.\d+)? ?(ms|s)\b", "N", row.get("Error", ""))[:100]
        kinds[f"{row.get('Name', '')}: {error}"] += int(row.get("Occurrences") or 0)
    for record in records:
        for kind in record.get("errors", []):
            kinds[f"client: {kind}"] += 1
    return dict(kinds.most_common())


def _is_internal_error(kind: str) -> bool:
    """An HTTP 500 from the gateway, or a WebSocket closed with 1011 (internal error)."""
    return "HTTP 500" in kind or kind.endswith("ws_closed:1011")


def _series_per_second(stamps: list[float], origin_ms: float) -> list[tuple[float, int]]:
    buckets: Counter[int] = Counter(int((s - origin_ms) // 1000) for s in stamps)
    if not buckets:
        return []
    return [(float(t), buckets.get(t, 0)) for t in range(min(buckets), max(buckets) + 1)]


def _queue_length(fans: list[dict[str, Any]], origin_ms: float) -> list[tuple[float, int]]:
    """Fans in the waiting room over time (joined, not yet admitted or gone), client view."""
    changes: list[tuple[float, int]] = []
    for fan in fans:
        if fan.get("joined_ms") is None:
            continue
        changes.append((fan["joined_ms"], 1))
        left = fan.get("admitted_seen_ms") or fan.get("final_ms")
        if left is not None:
            changes.append((left, -1))
    changes.sort()
    series, level = [], 0
    for stamp, delta in changes:
        level += delta
        series.append((round((stamp - origin_ms) / 1000, 2), level))
    return series


def fairness(fans: list[dict[str, Any]], join_order: dict[int, int]) -> dict[str, Any]:
    """Kendall tau-b (and gamma) of join order vs admission order, FIFO-phase fans only.

    Pre-queue fans are shuffled on purpose and are left out. Join order is the
    sequence number the waiting room gave each fan (read from Redis after the
    run); without it, the client's send time plus half the round trip. Admission
    order is the server's admission moment read from each fan's pass (one value
    per admission tick, so fans admitted in the same tick are ties).
    """

    def joined(fan: dict[str, Any]) -> float | None:
        if join_order:
            seq = join_order.get(int(fan.get("fan") or 0))
            return None if seq is None else float(seq)
        return float(fan["joined_ms"]) if fan.get("joined_ms") else None

    pairs = [
        (position, float(f["admitted_ms"]))
        for f in fans
        if f.get("phase") == "fifo" and f.get("admitted_ms") and (position := joined(f)) is not None
    ]
    agreement = rank_agreement([p[0] for p in pairs], [p[1] for p in pairs])

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {
        "join_order": "server sequence numbers" if join_order else "client join times",
        "kendall_tau": rounded(agreement.tau_b),
        "gamma": rounded(agreement.gamma),
        "fans": len(pairs),
        "discordant_pairs": agreement.discordant,
        "pairs": agreement.pairs,
        "overtaken_by_more_than_1s": None if join_order else _overtakes(pairs),
        "prequeue": _shuffle_check(fans),
    }


def _shuffle_check(fans: list[dict[str, Any]]) -> dict[str, Any]:
    """Pre-queue fans are shuffled at opening: their arrival order should not predict
    their admission order, so this tau should sit near 0 (about +-2/sqrt(n) by chance)."""
    pairs = [
        (float(f["joined_ms"]), float(f["admitted_ms"]))
        for f in fans
        if f.get("phase") == "prequeue" and f.get("admitted_ms") and f.get("joined_ms")
    ]
    agreement = rank_agreement([p[0] for p in pairs], [p[1] for p in pairs])
    tau = agreement.tau_b
    return {"fans": len(pairs), "arrival_vs_admission_tau": None if tau is None else round(tau, 3)}


def _overtakes(pairs: list[tuple[float, float]]) -> int:
    """Fans admitted over 1 s after someone who joined over 1 s after them (FIFO breaches)."""
    ordered = sorted(pairs)
    later, earliest_later_admission, count = len(ordered), float("inf"), 0
    for index in range(len(ordered) - 1, -1, -1):
        joined, admitted = ordered[index]
        # Grow the suffix of fans who joined more than a second after this one.
        while later - 1 > index and ordered[later - 1][0] > joined + 1000:
            later -= 1
            earliest_later_admission = min(earliest_later_admission, ordered[later][1])
        if admitted > earliest_later_admission + 1000:
            count += 1
    return count


def admission(plan: Plan, fans: list[dict[str, Any]]) -> dict[str, Any]:
    stamps = sorted(float(f["admitted_ms"]) for f in fans if f.get("admitted_ms"))
    result: dict[str, Any] = {
        "configured_per_minute": plan.admit_per_minute,
        "max_active": plan.max_active,
        "admitted": len(stamps),
    }
    if len(stamps) >= 2 and stamps[-1] > stamps[0]:
        window_s = (stamps[-1] - stamps[0]) / 1000
        observed = (len(stamps) - 1) / window_s * 60
        result.update(
            window_s=round(window_s, 1),
            observed_per_minute=round(observed, 1),
            ratio=round(observed / plan.admit_per_minute, 3),
        )
    lags = [
        f["admitted_seen_ms"] - f["admitted_ms"]
        for f in fans
        if f.get("admitted_ms") and f.get("admitted_seen_ms")
    ]
    result["pass_to_fan_lag_ms"] = summary(lags)
    return result


def sell_out(plan: Plan, book: dict[str, Any], fans: list[dict[str, Any]]) -> dict[str, Any]:
    """Sold out = every ticket issued. Stock held in abandoned carts comes back only when
    the hold expires, so also say when the last ticket was issued and when the drop
    first told a fan "sold out" (sold + held had reached capacity)."""
    capacity = sum(t["capacity"] for t in book["tiers"])
    sold = sum(t["tickets_valid"] for t in book["tiers"])
    issued = [ms for _, ms in book["issued"]]
    told = [f["final_ms"] for f in fans if f.get("state") == "sold_out" and f.get("final_ms")]

    def after_open(ms: float | None) -> float | None:
        return None if ms is None else round((ms - plan.opens_at_ms) / 1000, 1)

    sold_out = capacity > 0 and sold >= capacity
    return {
        "sold_out": sold_out,
        "capacity": capacity,
        "sold": sold,
        "seconds_after_open": after_open(max(issued)) if sold_out and issued else None,
        "last_sale_s": after_open(max(issued) if issued else None),
        "first_told_sold_out_s": after_open(min(told) if told else None),
    }


def websocket(fans: list[dict[str, Any]], requests: list[dict[str, Any]]) -> dict[str, Any]:
    """The live socket as fans felt it: how late "it's your turn" arrived, and how often
    updates came (Locust's WS rows; percentiles there are Locust's rounded ones)."""
    rows = {r["name"]: r for r in requests if r["type"] == "WS"}

    def row(name: str) -> dict[str, Any] | None:
        found = rows.get(name)
        return (
            None
            if found is None
            else {k: found[k] for k in ("count", "p50_ms", "p95_ms", "p99_ms", "failures")}
        )

    lags = [
        f["admitted_seen_ms"] - f["admitted_ms"]
        for f in fans
        if f.get("admitted_ms") and f.get("admitted_seen_ms")
    ]
    return {
        "admitted_lag_ms": summary(lags),
        "update_gap_ms": row("WS update gap"),
        "update_lag_ms": row("WS update lag"),
        "connect_ms": row("WS connect"),
        "messages": sum(int(f.get("ws_messages") or 0) for f in fans),
    }


def joins(fans: list[dict[str, Any]], origin_ms: float) -> dict[str, Any]:
    """Beside each fan's last join (`join_latency_ms`): every attempt, the refusals that
    asked for the challenge included (the stampede itself: they come all at once);
    how long fans waited for a solved challenge (fetched, then solved on what CPU the
    box had idle, loadtest/pow_solver.py); when accepted joins reached the server."""
    attempts = [ms for f in fans for ms in f.get("join_attempts_ms", [])]
    accepted_s = [(f["joined_ms"] - origin_ms) / 1000 for f in fans
                  if f.get("join_status") in (200, 201) and f.get("joined_ms")]
    return {
        "every_attempt_ms": summary(attempts),
        "challenge_wait_ms": summary([f["challenge_ms"] for f in fans if "challenge_ms" in f]),
        "accepted_after_open_s": summary(accepted_s),
    }


def bots(records: list[dict[str, Any]]) -> dict[str, Any]:
    by_attack: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"attempts": 0, "successes": 0, "statuses": Counter()}
    )
    for record in records:
        for attempt in record.get("attempts", []):
            entry = by_attack[attempt["attack"]]
            entry["attempts"] += 1
            entry["successes"] += int(bool(attempt["success"]))
            entry["statuses"][str(attempt["status"])] += 1
    table = {name: {**v, "statuses": dict(v["statuses"])} for name, v in sorted(by_attack.items())}
    return {
        "bots": len(records),
        "finished": sum(1 for r in records if r.get("final")),
        "attempts": sum(v["attempts"] for v in table.values()),
        "successes": sum(v["successes"] for v in table.values()),
        "by_attack": table,
        "errors": [r["error"] for r in records if r.get("error")][:10],
    }


def build(
    plan: Plan,
    records: list[dict[str, Any]],
    book: dict[str, Any],
    payments: dict[str, Any],
    csv_prefix: Path,
    run: dict[str, Any],
    *,
    join_order: dict[int, int] | None = None,
    emails: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`emails` is loadtest.email_check's count of the drop's outbox; None leaves it out."""
    fans = [r for r in records if r.get("kind") == "fan"]
    bot_records = [r for r in records if r.get("kind") == "bot"]
    states = Counter(str(f.get("state")) for f in fans)
    unfinished = [f for f in fans if f.get("state") not in FINAL_STATES]
    missing = max(0, plan.fans - len(fans))
    oversold = [
        t["name"]
        for t in book["tiers"]
        if t["sold"] > t["capacity"] or t["tickets_valid"] > t["capacity"]
    ]
    bot_summary = bots(bot_records)
    origin = float(plan.opens_at_ms)
    issued_by_tier: dict[str, list[float]] = defaultdict(list)
    for name, ms in book["issued"]:
        issued_by_tier[name].append(ms)
    errors = errors_by_kind(csv_prefix, records)
    requests = locust_requests(csv_prefix)
    internal = sum(count for kind, count in errors.items() if _is_internal_error(kind))
    invariants = {
        "no_oversell": not oversold,
        "payments_reconcile": bool(payments["ok"]),
        "zero_bot_successes": bot_summary["successes"] == 0,
        "every_fan_final": not unfinished and missing == 0,
        # Promise 5: bad input gets a 4xx, never a 500 (a 503 "busy" is an honest answer).
        "no_internal_errors": internal == 0,
    }
    if emails is not None:
        # One email per cause: confirmations == paid orders, refunds == refunded orders...
        invariants["emails_match_ledger"] = bool(emails["ok"])
    return {
        "run": {
            **run,
            "shape": plan.shape,
            "fans": plan.fans,
            "bots": plan.bots,
            "tickets": sum(plan.capacity.values()),
            "duration_s": plan.duration_s,
            "drop_id": plan.drop_id,
            "event_id": plan.event_id,
        },
        "invariants": {**invariants, "all_ok": all(invariants.values())},
        "join_latency_ms": summary([f["join_latency_ms"] for f in fans if "join_latency_ms" in f]),
        "joins": joins(fans, origin),
        "admission": admission(plan, fans),
        "fairness": fairness(fans, join_order or {}),
        "sell_out": sell_out(plan, book, fans),
        "tickets": {"tiers": book["tiers"], "oversold_tiers": oversold},
        "payments": payments,
        "emails": emails,
        "bots": bot_summary,
        "fans": {
            "records": len(fans),
            "missing_records": missing,
            "final_states": dict(states.most_common()),
            "unfinished": len(unfinished),
            "unfinished_examples": [
                {k: f.get(k) for k in ("fan", "state", "reason")} for f in unfinished[:10]
            ],
        },
        "errors": errors,
        "internal_errors": internal,
        "websocket": websocket(fans, requests),
        "requests": requests,
        "series": {
            "queue_length": _queue_length(fans, origin),
            "admissions_per_s": _series_per_second(
                [f["admitted_ms"] for f in fans if f.get("admitted_ms")], origin
            ),
            "sales": {
                name: [(round((ms - origin) / 1000, 2), i + 1) for i, ms in enumerate(s)]
                for name, s in sorted(issued_by_tier.items())
            },
        },
    }

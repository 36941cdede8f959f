"""Render the report: a self-contained HTML page (inline SVG charts, no scripts, no CDN)
and the short text summary `ticketq simulate` prints."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from typing import Any

from loadtest.scale_table import saturated_side

COLOURS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed"]
# loadtest.report.joins, by field
JOIN_LABELS = {
    "every_attempt_ms": "join every attempt ms",
    "challenge_wait_ms": "challenge wait ms",
    "accepted_after_open_s": "joined after open s",
}
Point = Sequence[float]


def _svg_chart(
    title: str,
    series: dict[str, Sequence[Point]],
    *,
    bars: bool = False,
    x_label: str = "seconds after the drop opened",
) -> str:
    width, height, pad = 640, 220, 40
    points = [p for values in series.values() for p in values]
    if not points:
        return f"<figure><figcaption>{html.escape(title)}</figcaption><p>no data</p></figure>"
    x_min, x_max = min(p[0] for p in points), max(p[0] for p in points)
    y_max = max(1.0, max(p[1] for p in points))
    # Bars stand on [x, x + 1): leave room for the last one inside the frame.
    x_span = (x_max - x_min + (1.0 if bars else 0.0)) or 1.0

    def sx(x: float) -> float:
        return pad + (x - x_min) / x_span * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad - y / y_max * (height - 2 * pad)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#999"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#999"/>',
        f'<text x="{pad - 4}" y="{pad + 4}" text-anchor="end" font-size="11">{y_max:g}</text>',
        f'<text x="{pad - 4}" y="{height - pad}" text-anchor="end" font-size="11">0</text>',
        f'<text x="{pad}" y="{height - pad + 16}" font-size="11">{x_min:g}</text>',
        f'<text x="{width - pad}" y="{height - pad + 16}" text-anchor="end" font-size="11">'
        f"{x_max:g}</text>",
        f'<text x="{width / 2}" y="{height - 6}" text-anchor="middle" font-size="11">'
        f"{html.escape(x_label)}</text>",
    ]
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        if bars:
            bar = max(1.0, (width - 2 * pad) / x_span - 1)
            parts += [
                f'<rect x="{sx(x):.1f}" y="{sy(y):.1f}" width="{bar:.1f}" '
                f'height="{height - pad - sy(y):.1f}" fill="{colour}"/>'
                for x, y in values
            ]
        else:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'
            )
        parts.append(
            f'<text x="{pad + 8}" y="{pad + 12 + 14 * index}" '
            f'font-size="12" fill="{colour}">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return f"<figure><figcaption>{html.escape(title)}</figcaption>{''.join(parts)}</figure>"


def _table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows
    )
    return f"<table>{body}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "-" if value is None else str(value)


def _grid(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;padding:0 1rem;
color:#111}table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ddd;
padding:.25rem .6rem;text-align:left}th{background:#f5f5f5}.ok{color:#047857;font-weight:600}
.bad{color:#b91c1c;font-weight:600}figure{margin:1rem 0}
.note{color:#555;margin:.2rem 0}svg{width:100%;max-width:640px;background:#fafafa}
"""


NOTES = {
    "invariants": "Each must pass before the real drop; a FAIL is a bug, whatever the load.",
    "run": "cpu_cores_busy: average cores used by each process, the machine, and everything "
    "else on it; peak_cores_busy: the same in each one's busiest 5 seconds (a spike saturates "
    "for seconds). A busy machine or a saturated load generator makes latencies pessimistic.",
    "fans": "Join latency: a fan's wait for a place in line (client side, the last join). "
    "Every attempt adds the first joins that were told to solve the challenge, the stampede "
    "itself; challenge wait and joined-after-open show how long the box took to solve the "
    "fans' proof-of-work, which spreads the accepted joins. Every fan must end in a final "
    "state (ticketed, sold out, closed, abandoned, ...).",
    "admission": "Observed pace (server admission moments, from the passes) vs the drop's "
    "setting, and how long a fan took to learn it was their turn.",
    "websocket": "admitted_lag: from the admission tick to the fan reading 'your turn'; "
    "update_gap: time between two messages on one socket (at least one every 2 s).",
    "fairness": "Join order vs admission order, first come first served phase only. gamma 1.0 "
    "and 0 discordant pairs: nobody was let in before someone present who joined earlier.",
    "sales": "Tickets sold never exceed capacity. Tickets in abandoned carts return when "
    "their hold expires.",
    "payments": "Every payment that succeeded at Stripe (localstripe) is ticketed or refunded.",
    "emails": "One outbox row per cause, counted sent and unsent (the rehearsal's worker has "
    "no SMTP server, so rows stay unsent): confirmations == orders that became paid, refund "
    "emails == refunded orders, lottery results == settled entries.",
    "bots": "Cheating attempts and the answers they got; any success is a bug.",
    "errors": "Server errors, timeouts and broken connections seen by the crowd (expected "
    "refusals such as 'sold out' are not errors).",
}


def _note(section: str) -> str:
    return f'<p class="note">{html.escape(NOTES[section])}</p>'


def _emails_html(emails: dict[str, Any] | None) -> str:
    if emails is None:
        return ""
    return (
        "<h2>Emails</h2>" + _note("emails")
        + _grid(["email", "kinds", "outbox rows", "expected", "from the ledger", "agrees"],
                [[c["email"], ", ".join(c["kinds"]), c["rows"], c["expected"], c["fact"],
                  "yes" if c["ok"] else "NO"] for c in emails["checks"]])
        + _grid(["kind", "rows", "sent", "unsent"],
                [[kind, k["rows"], k["sent"], k["unsent"]] for kind, k in emails["kinds"].items()])
        + _table([("counted", emails["counted"]), ("SMTP configured", emails["smtp_configured"])])
    )


def _emails_text(emails: dict[str, Any] | None) -> list[str]:
    if emails is None:
        return []
    checks = ", ".join(f"{c['email']} {c['rows']}/{c['expected']}" for c in emails["checks"])
    return [f"  emails (rows/expected) {checks}; {emails['sent']} sent, {emails['unsent']} unsent"]


def render_html(report: dict[str, Any]) -> str:
    inv = report["invariants"]
    badges = "".join(
        f'<li class="{"ok" if ok else "bad"}">{"PASS" if ok else "FAIL"} {html.escape(name)}</li>'
        for name, ok in inv.items()
        if name != "all_ok"
    )
    run, adm, fair = report["run"], report["admission"], report["fairness"]
    series = report["series"]
    tiers = report["tickets"]["tiers"]
    sections = [
        f"<h1>Drop rehearsal: {html.escape(str(run['shape']))}, {run['fans']} fans, "
        f"{run['tickets']} tickets</h1>",
        f"<h2>Invariants</h2>{_note('invariants')}<ul>{badges}</ul>",
        "<h2>Run</h2>" + _note("run") + _table(list(run.items())),
        "<h2>Fans</h2>"
        + _note("fans")
        + _table(
            [
                ("join latency (ms)", report["join_latency_ms"]),
                *[(JOIN_LABELS[name], value) for name, value in report.get("joins", {}).items()],
                ("final states", report["fans"]["final_states"]),
                ("unfinished", report["fans"]["unfinished"]),
                ("missing records", report["fans"]["missing_records"]),
            ]
        ),
        "<h2>Admission</h2>" + _note("admission") + _table(list(adm.items())),
        "<h2>WebSocket</h2>" + _note("websocket") + _table(list(report["websocket"].items())),
        "<h2>Fairness (FIFO phase)</h2>" + _note("fairness") + _table(list(fair.items())),
        "<h2>Sales</h2>"
        + _note("sales")
        + _table(list(report["sell_out"].items()))
        + _grid(
            ["tier", "capacity", "sold", "valid tickets", "refunded tickets"],
            [
                [t["name"], t["capacity"], t["sold"], t["tickets_valid"], t["tickets_refunded"]]
                for t in tiers
            ],
        ),
        "<h2>Payments</h2>" + _note("payments") + _table(list(report["payments"].items())),
        _emails_html(report.get("emails")),
        _svg_chart("Waiting room length (fans waiting)", {"waiting": series["queue_length"]}),
        _svg_chart("Admissions per second", {"admitted": series["admissions_per_s"]}, bars=True),
        _svg_chart("Tickets issued per tier (cumulative)", series["sales"]),
        "<h2>Bots</h2>"
        + _note("bots")
        + _grid(
            ["attack", "attempts", "successes", "statuses"],
            [
                [k, v["attempts"], v["successes"], v["statuses"]]
                for k, v in report["bots"]["by_attack"].items()
            ],
        ),
        "<h2>Errors by kind</h2>"
        + _note("errors")
        + _grid(["kind", "count"], [list(e) for e in report["errors"].items()]),
        "<h2>Requests (Locust)</h2>"
        + _grid(
            ["type", "name", "count", "failures", "p50 ms", "p95 ms", "p99 ms", "req/s"],
            [
                [
                    r["type"],
                    r["name"],
                    r["count"],
                    r["failures"],
                    r["p50_ms"],
                    r["p95_ms"],
                    r["p99_ms"],
                    r["rps"],
                ]
                for r in report["requests"]
            ],
        ),
        "<p>How to read every number: docs/loadtest.md.</p>",
    ]
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>TicketQ rehearsal</title>"
        f"<meta name=viewport content='width=device-width'><style>{CSS}</style>"
        f"<body>{''.join(sections)}</body></html>"
    )


def render_text(report: dict[str, Any]) -> str:
    inv, adm, fair = report["invariants"], report["admission"], report["fairness"]
    pay, sell, bots = report["payments"], report["sell_out"], report["bots"]
    lines = [
        f"TicketQ rehearsal: {report['run']['shape']}, {report['run']['fans']} fans, "
        f"{report['run']['tickets']} tickets, drop {report['run']['drop_id']}",
        f"  join latency ms      {report['join_latency_ms']}",
        *[f"  {JOIN_LABELS[name]:<20} {value}" for name, value in report.get("joins", {}).items()],
        f"  WS admitted lag ms   {adm.get('pass_to_fan_lag_ms')}",
        f"  WS update gap ms     {report['websocket']['update_gap_ms']}",
        f"  admission/min        observed {adm.get('observed_per_minute')} vs configured "
        f"{adm['configured_per_minute']} (max_active {adm['max_active']}, "
        f"admitted {adm['admitted']})",
        f"  sold / capacity      {sell['sold']} / {sell['capacity']}"
        + (
            f", sold out {sell['seconds_after_open']} s after opening"
            if sell["sold_out"]
            else f", last sale {sell['last_sale_s']} s after opening"
        )
        + f"; first 'sold out' told {sell['first_told_sold_out_s']} s after opening",
        f"  payments             {pay['succeeded']} succeeded = {pay['ticketed']} ticketed + "
        f"{pay['refunded']} refunded ({pay['unreconciled_count']} unreconciled)",
        *_emails_text(report.get("emails")),
        f"  fairness (FIFO)      Kendall tau-b {fair['kendall_tau']}, gamma {fair['gamma']} "
        f"({fair['discordant_pairs']} discordant pairs) over {fair['fans']} fans, "
        f"join order from {fair['join_order']}",
        f"  bots                 {bots['successes']} successes in {bots['attempts']} attempts",
        f"  fans final states    {report['fans']['final_states']}",
        f"  errors               {dict(list(report['errors'].items())[:6])}",
        f"  cpu (cores busy)     {report['run'].get('cpu_cores_busy')}",
        f"  cpu, busiest 5 s     {report['run'].get('peak_cores_busy')}",
        f"  saturated            {saturated_side(report['run'], os.cpu_count() or 1)}",
    ]
    lines += [
        f"  {'PASS' if ok else 'FAIL'}  {name}" for name, ok in inv.items() if name != "all_ok"
    ]
    return "\n".join(lines)

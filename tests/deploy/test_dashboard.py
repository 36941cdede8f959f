"""deploy/grafana/ticketq-drop.json reads only metrics the code exports.

Every PromQL expression is parsed for metric names (and the labels its selectors
match, and the route templates it names) and checked against the collectors the
gateway registers: renaming a metric or a route without the dashboard fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.promql import exported, metric_names, unknown_names, unknown_routes

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "ticketq-drop.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def graphs() -> list[dict[str, Any]]:
    return [panel for panel in dashboard()["panels"] if panel["type"] != "row"]


def expressions() -> list[tuple[str, str]]:
    return [(panel["title"], target["expr"]) for panel in graphs() for target in panel["targets"]]


def test_every_expression_reads_exported_metrics_only() -> None:
    assert len(expressions()) >= 20
    for title, expression in expressions():
        assert metric_names(expression), f"{title}: no TicketQ metric in {expression}"
        assert unknown_names(expression) == [], f"{title}: {expression}"
        assert unknown_routes(expression) == [], f"{title}: {expression}"


def test_a_renamed_metric_or_label_would_fail() -> None:
    """The check above can fail: the names it parses are the ones that must exist."""
    _, expression = expressions()[0]
    assert "ticketq_queue_length" in expression
    renamed = expression.replace("ticketq_queue_length", "ticketq_queue_size")
    assert unknown_names(renamed) == ["ticketq_queue_size"]
    assert unknown_names('sum(ticketq_queue_websockets{dorp="1"})') == [
        "ticketq_queue_websockets{dorp}"]
    assert unknown_routes('ticketq_http_requests_total{route="/api/drops/{id}/holds"}') == [
        "/api/drops/{id}/holds"]


def test_the_panels_of_a_drop_are_there() -> None:
    titles = {panel["title"] for panel in graphs()}
    assert {"Line length", "Joins per second", "Join latency", "Admissions vs pace",
            "Open sockets", "Position push lag", "Holds per second", "Checkouts and payments",
            "5xx per second by route", "Redis and Postgres round trip"} <= titles
    read = {name for _, expression in expressions() for name in metric_names(expression)}
    # Every metric of a drop the gateway exports is on the dashboard somewhere.
    ours = {name for name in exported() if name.startswith("ticketq_")
            and not name.endswith(("_created", "_sum", "_count"))}
    assert ours - read == set()


def test_the_layout_is_sound() -> None:
    panels = dashboard()["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
    for panel in graphs():
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["description"] and panel["fieldConfig"]["defaults"]["unit"], panel["title"]


def test_the_drop_variable_lists_drops_from_an_exported_metric() -> None:
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    assert unknown_names(variables["drop"]["definition"]) == []
    assert metric_names(variables["drop"]["definition"]) == {"ticketq_queue_length"}


def test_alerts_the_dashboard_names_exist() -> None:
    alerts = {rule["alert"] for group in yaml.safe_load(ALERTS.read_text())["groups"]
              for rule in group["rules"]}
    named = {name for panel in graphs()
             for name in re.findall(r"TicketQ[A-Za-z0-9]+", panel["description"])}
    assert named and named <= alerts, named - alerts

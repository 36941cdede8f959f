"""deploy/prometheus/alerts.yml: well formed, on exported metrics, and each alert fires.

`promtool` (Debian's `prometheus` package, installed by .ci/run) checks the rules and
runs their unit tests (alerts_test.yml: each alert fires on a degrading drop and stays
quiet on a healthy one). Without promtool, outside CI, those two tests skip; the
structure and the metric names are checked here in any case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.promql import metric_names, unknown_names, unknown_routes

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus"
ALERTS = RULES / "alerts.yml"


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing in CI: .ci/run installs Debian's prometheus")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return found


def test_every_rule_is_a_complete_alert() -> None:
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names)) >= 6
    for rule in rules():
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in {"page", "warn"}, rule["alert"]
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]


def test_every_expression_reads_exported_metrics_only() -> None:
    for rule in rules():
        assert metric_names(rule["expr"]), rule["alert"]
        assert unknown_names(rule["expr"]) == [], rule["alert"]
        assert unknown_routes(rule["expr"]) == [], rule["alert"]


def test_a_degrading_drop_is_covered() -> None:
    """The issue's list: join p99, 5xx rate, admission lag, webhook trouble."""
    read = {rule["alert"]: metric_names(rule["expr"]) for rule in rules()}
    assert "ticketq_queue_join_seconds_bucket" in read["TicketQJoinLatencyHigh"]
    assert "ticketq_http_requests_total" in read["TicketQHigh5xxRate"]
    assert "ticketq_queue_admit_per_minute_target" in read["TicketQAdmissionBehindPace"]
    assert "ticketq_queue_broadcast_seconds_bucket" in read["TicketQPositionPushSlow"]
    assert "/webhooks/stripe" in next(
        r["expr"] for r in rules() if r["alert"] == "TicketQStripeWebhooksFailing")


def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run([promtool(), "check", "rules", str(ALERTS)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_each_alert_fires_in_promtools_unit_tests() -> None:
    tests = yaml.safe_load((RULES / "alerts_test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    assert tested == {rule["alert"] for rule in rules()}
    result = subprocess.run([promtool(), "test", "rules", "alerts_test.yml"], cwd=RULES,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

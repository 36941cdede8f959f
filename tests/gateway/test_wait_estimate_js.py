"""gateway/static/wait_estimate.js, the waiting room's smoothed estimate, run under node:
it never counts up, does not jump to each new figure, and freezes while the line stalls."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

MODULE = Path(__file__).resolve().parents[2] / "gateway" / "static" / "wait_estimate.js"


def run(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feed the samples in order; each result carries the shown text too."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        f"const w = require({json.dumps(str(MODULE))});"
        "let previous = null; const out = [];"
        f"for (const sample of {json.dumps(samples)}) {{"
        "  previous = w.nextEstimate(previous, sample);"
        "  out.push({...previous, text: w.describe(previous)}); }"
        "process.stdout.write(JSON.stringify(out));"
    )
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


def test_the_first_figure_is_shown_as_given():
    [first] = run([{"rawS": 600, "nowMs": 0, "stalled": False}])
    assert first["shownS"] == 600 and first["text"] == "about 10 min"


def test_a_higher_figure_never_makes_the_wait_count_up():
    shown = run([{"rawS": 600, "nowMs": 0, "stalled": False},
                 {"rawS": 1800, "nowMs": 10_000, "stalled": False},
                 {"rawS": 3600, "nowMs": 20_000, "stalled": False}])
    assert [round(item["shownS"]) for item in shown] == [600, 590, 580]


def test_a_lower_figure_is_eased_toward_not_jumped_to():
    _, second = run([{"rawS": 600, "nowMs": 0, "stalled": False},
                     {"rawS": 100, "nowMs": 0, "stalled": False}])
    assert second["shownS"] == 475  # a quarter of the way from 600 to 100


def test_a_stalled_line_freezes_the_figure_and_says_why():
    shown = run([{"rawS": 600, "nowMs": 0, "stalled": False},
                 {"rawS": 9000, "nowMs": 60_000, "stalled": "carts"},
                 {"rawS": None, "nowMs": 600_000, "stalled": "carts"},
                 {"rawS": 600, "nowMs": 610_000, "stalled": False}])
    assert [item["text"] for item in shown[1:3]] == ["waiting for seats to come back"] * 2
    assert shown[1]["shownS"] == 600 and shown[2]["shownS"] == 600
    # Resumed: counted down only by the ten seconds since the stall ended.
    assert shown[3]["shownS"] == 590 and not shown[3]["stalled"]


def test_a_pause_by_the_venue_says_so_and_freezes_too():
    _, paused = run([{"rawS": 600, "nowMs": 0, "stalled": False},
                     {"rawS": 900, "nowMs": 60_000, "stalled": "paused"}])
    assert paused["text"] == "paused by the venue" and paused["shownS"] == 600


def test_no_figure_yet_reads_as_a_dash_and_long_waits_round_to_five_minutes():
    none, long = run([{"rawS": None, "nowMs": 0, "stalled": False},
                      {"rawS": 2 * 3600 + 61, "nowMs": 0, "stalled": False}])
    assert none["text"] == "–"
    assert long["text"] == "about 2 h 5 min"

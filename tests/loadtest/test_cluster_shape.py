"""The production shape end to end, small: a 3-master Redis Cluster, three gateways behind
HAProxy, two workers, two drops at once, one gateway and the pacing worker SIGKILLed mid-drop.

Runs `ticketq simulate --cluster` as a real process (as tests/loadtest/test_simulate.py
does) against the suite's Postgres; the Cluster is the rehearsal's own. Asserts the
report's invariants, never its timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest import load_balancer

if TYPE_CHECKING:
    from tests.support.services import TestServices

VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
CLUSTER_INVARIANTS = (
    "sockets_on_every_gateway",
    "positions_consistent_across_gateways",
)
# About 60 admissions per drop cannot resolve the report's 5 % pace bound (one tick late
# on a busy CI box is 3 %): the suite holds the pace to 15 %, the rehearsal to 5 %.
SUITE_PACE_TOLERANCE = 0.15


@pytest.mark.slow
@pytest.mark.skipif(not load_balancer.available(), reason="needs Debian's haproxy")
# The rehearsal starts its own Cluster: a pass against borrowed servers would repeat it.
@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")),
                    reason="runs its own Redis Cluster; the embedded-servers pass covers it")
def test_cluster_rehearsal_survives_a_gateway_and_a_worker_dying(
    services: TestServices, tmp_path: Path
) -> None:
    env = {**os.environ, "DATABASE_URL": services.database_url,
           "TICKETQ_HOME": str(services.folder)}
    env.pop("REDIS_URL", None)
    args = [str(VENV_BIN / "ticketq"), "simulate", "--", "--cluster", "--gateways", "3",
            "--workers", "2", "--drops", "2", "--balancer", "haproxy",
            "--fans", "75", "--tickets", "300", "--duration", "40", "--bots", "0",
            # Slower than the crowd arrives: the line stays backlogged, so the pace is measured.
            "--admit-per-minute", "120",
            "--abandon", "0.05", "--cart-abandon", "0", "--out", str(tmp_path)]
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    summaries = list(tmp_path.glob("*/cluster-report.json"))
    assert summaries, f"no report written:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    summary = json.loads(summaries[0].read_text())
    text = json.dumps(summary)[:4000]
    assert len(summary["drops"]) == 2, text
    # Two drops at once, each on its own hash slot: both sold, both kept every promise.
    first = summary["drops"][0]
    for drop in summary["drops"]:
        for name in CLUSTER_INVARIANTS:
            assert drop["invariants"][name], (drop["drop_id"], name, text)
        pace = drop["cluster"]["admission_pace"]["ratio"]
        assert abs(pace - 1) <= SUITE_PACE_TOLERANCE, (drop["drop_id"], pace, text)
        for name in ("no_oversell", "payments_reconcile", "every_fan_final",
                     "no_internal_errors"):
            assert drop["invariants"][name], (drop["drop_id"], name, text)
        assert drop["final_states"].get("ticketed", 0) > 0, text
    loss = first["cluster"]["gateway_loss"]
    assert loss["killed"] == "gateway-2", text
    assert loss["reconnected"] > 0 and loss["kept_place"] == loss["reconnected"], text
    assert first["invariants"]["fans_kept_place_after_gateway_loss"], text
    assert first["invariants"]["lease_taken_over"], text
    assert summary["killed"]["lease_after"] != summary["killed"]["lease_before"], text
    # The run exits non-zero when any report invariant fails; the only one this short run
    # may miss is the 5 % pace, held to SUITE_PACE_TOLERANCE above.
    failed = {name for drop in summary["drops"] for name, ok in drop["invariants"].items()
              if not ok and name != "all_ok"}
    assert failed <= {"admission_pace_within_5pct"}, (failed, done.stdout[-3000:])
    assert done.returncode == (1 if failed else 0), done.stdout[-3000:]

"""`python -m loadtest.bench_scale`: its options, and one real tiny step end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from loadtest import bench
from loadtest.bench_scale import parse

if TYPE_CHECKING:
    from tests.support.services import TestServices

ROOT = Path(__file__).resolve().parents[2]


def test_steps_are_read_in_order() -> None:
    assert parse(["--steps", "500, 1000,2000"]).steps == [500, 1000, 2000]


def test_every_step_is_the_same_drop() -> None:
    options = parse(["--tickets", "50", "--admit-per-minute", "120"])
    assert (options.tickets, options.admit_per_minute) == (50, 120)
    with pytest.raises(SystemExit):
        parse(["--admit-per-minute", "0"])


@pytest.mark.parametrize("steps", ["", "500,lots", "0,100", "-5"])
def test_bad_steps_are_refused(steps: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse([f"--steps={steps}"])
    assert exited.value.code == 2
    assert "--steps" in capsys.readouterr().err


def test_make_bench_leaves_the_scale_curve_to_its_own_target() -> None:
    assert "bench_scale" not in bench.discover(None)
    assert "bench_queue_ws" in bench.discover(None)


@pytest.mark.slow
def test_one_tiny_step_prints_and_writes_its_row(services: TestServices, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "REDIS_URL": services.redis_url,
        "DATABASE_URL": services.database_url,
        "TICKETQ_HOME": str(services.folder),
    }
    args = [sys.executable, "-m", "loadtest.bench_scale", "--steps", "60", "--duration", "10",
            "--locust-workers", "0", "--out", str(tmp_path)]
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=150)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [written] = tmp_path.glob("scale-*/scale.json")
    table = json.loads(written.read_text())
    [row] = table["rows"]
    assert row["fans"] == 60 and row["all_ok"] and row["cost_ratio"] == 1.0
    assert row["join_p50_ms"] > 0 and row["server_cpu_s_per_fan_minute"] > 0
    assert row["kib_per_socket"] is not None and row["peak_sockets"] > 0
    assert "| 60 |" in done.stdout and f"on {os.cpu_count()} CPUs" in table["machine"]
    assert (written.parent / "scale.md").read_text().splitlines()[4].startswith("| 60 |")

"""CpuWatch's busiest-seconds reading: a process that works in a burst and then idles
shows its burst at peak, which the run's average hides."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from core.supervisor import Supervisor
from loadtest.stack import CpuWatch

BURST_THEN_IDLE = (
    "import time\n"
    "end = time.monotonic() + 1.5\n"
    "while time.monotonic() < end: pass\n"
    "time.sleep(3)\n"
)


def test_a_burst_shows_at_peak_and_is_diluted_on_average(tmp_path: Path) -> None:
    with Supervisor(tmp_path / "logs", cwd=tmp_path) as procs:
        child = procs.start("burst", [sys.executable, "-c", BURST_THEN_IDLE])
        with CpuWatch(procs, interval_s=0.1) as watch:
            child.process.wait(20)
            time.sleep(0.3)
        average = watch.cores_busy()["burst"]
        peak = watch.peak_cores_busy(window_s=1.0)

    assert peak["burst"] > 1.5 * average
    assert "machine (all processes)" in peak

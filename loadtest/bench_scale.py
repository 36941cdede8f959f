"""`make bench-scale`: the same drop at growing crowds, one table row per crowd size.

    python -m loadtest.bench_scale [--steps 500,1000,2000] [--duration 30] [--locust-workers 2]

Each step is one bounded `ticketq simulate` run (its own embedded servers, gateway,
worker and Locust on loopback; it stops by itself), one after the other so steps do
not share the CPU. Every step is the same drop (the same tickets and admission pace,
as a venue would set them), only the crowd grows: the extra fans wait on their
sockets, which is the per-fan cost that must stay flat. loadtest/scale_table.py
turns each step's report.json into a row; the table goes to
loadtest/reports/scale-<time>/ as scale.json and scale.md (git-ignored) and is
printed. docs/performance.md ("Scale curve") keeps a measured one and says how to
read it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from loadtest.config import GRACE_S, SHAPES
from loadtest.scale_table import ScaleRow, markdown, row_of, with_cost_ratios
from loadtest.simulate import STARTUP_S
from loadtest.stack import ROOT

REPORTS = ROOT / "loadtest" / "reports"
# Beyond the run itself: servers start, migrations, seeding, the ledger check.
STEP_OVERHEAD_S = 180.0


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_scale",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="500,1000,2000",
                        help="crowd sizes, comma-separated (default 500,1000,2000)")
    parser.add_argument("--duration", type=int, default=30, help="sales window per step (s)")
    parser.add_argument("--shape", choices=SHAPES, default="spike")
    parser.add_argument("--tickets", type=int, default=400, help="tickets on sale, every step")
    parser.add_argument("--admit-per-minute", type=int, default=600,
                        help="admission pace, every step (default 600)")
    parser.add_argument("--bots", type=int, default=0, help="cheating bots per step")
    parser.add_argument("--gateway-workers", type=int, default=1)
    parser.add_argument("--locust-workers", type=int, default=2,
                        help="Locust worker processes (0: one standalone process)")
    parser.add_argument("--out", type=Path, default=REPORTS)
    options = parser.parse_args(argv)
    try:
        options.steps = [int(step) for step in options.steps.split(",") if step.strip()]
    except ValueError:
        parser.error("--steps takes whole numbers separated by commas, e.g. 500,1000,2000")
    if not options.steps or min(options.steps) < 1:
        parser.error("--steps needs at least one crowd size of 1 fan or more")
    if options.duration < 10 or min(options.tickets, options.admit_per_minute) < 1:
        parser.error("need --duration >= 10, --tickets >= 1 and --admit-per-minute >= 1")
    return options


def run_step(options: argparse.Namespace, fans: int, out: Path) -> dict[str, object] | None:
    """One simulate run of `fans`; its report (None when it wrote none)."""
    arguments = [
        "--fans", str(fans),
        "--tickets", str(options.tickets),
        "--admit-per-minute", str(options.admit_per_minute),
        "--duration", str(options.duration),
        "--shape", options.shape,
        "--bots", str(options.bots),
        "--gateway-workers", str(options.gateway_workers),
        "--locust-workers", str(options.locust_workers),
        "--out", str(out),
    ]
    limit = STARTUP_S + options.duration + GRACE_S + STEP_OVERHEAD_S
    print(f"== step {fans:,} fans (up to {limit:.0f}s)", flush=True)
    started = time.monotonic()
    try:
        # A failed invariant exits 1 but still writes its report: the row says so.
        subprocess.run([sys.executable, "-m", "ticketq.cli", "simulate", "--", *arguments],
                       cwd=ROOT, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        print(f"== step {fans:,} fans: timed out after {limit:.0f}s", flush=True)
    reports = sorted(out.glob("*/report.json"))
    print(f"== step {fans:,} fans: {time.monotonic() - started:.0f}s", flush=True)
    return json.loads(reports[-1].read_text()) if reports else None


def machine_line(options: argparse.Namespace, load_before: float) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Measured {when} on {os.cpu_count()} CPUs ({cpu_model()}), Python "
        f"{platform.python_version()}, {platform.system()} {platform.machine()}; 1-minute "
        f"load average before the run {load_before:.1f}. Each step: `ticketq simulate`, "
        f"{options.shape}, {options.duration} s, {options.tickets} tickets, admitting "
        f"{options.admit_per_minute}/min, "
        f"{options.gateway_workers} gateway worker(s), {options.locust_workers} Locust "
        f"worker(s) (`python -m loadtest.bench_scale`)."
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    load_before = os.getloadavg()[0]
    folder = Path(options.out).resolve() / f"scale-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    rows: list[ScaleRow] = []
    missing: list[int] = []
    for fans in options.steps:
        step_load = round(os.getloadavg()[0], 1)
        report = run_step(options, fans, folder / f"step-{fans}")
        if report is None:
            missing.append(fans)
            continue
        rows.append(row_of(report, os.cpu_count() or 1, step_load))
    rows = with_cost_ratios(rows)
    rendered = markdown(rows, machine_line(options, load_before))
    if missing:
        rendered += "\n\nNo report (failed or timed out): " + ", ".join(map(str, missing))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scale.json").write_text(json.dumps(
        {"machine": machine_line(options, load_before), "rows": [asdict(r) for r in rows],
         "missing_steps": missing}, indent=2))
    (folder / "scale.md").write_text(rendered + "\n")
    print(rendered)
    print(f"\nwrote {folder / 'scale.md'} and scale.json")
    return 0 if rows and not missing and all(row.all_ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: run every benchmark under loadtest/ and write docs/performance.md's table.

    python -m loadtest.bench [--only queue purchase] [--timeout 900] [--no-write] [--list]

Each `loadtest/bench_*.py` module runs as its own process (`python -m
loadtest.bench_x`), one after the other so they do not steal each other's CPU.
Figures are read from its output in the line format of loadtest/README.md:

    BENCH {"name": "...", "value": 5321.0, "unit": "joins/s", "ratio": 0.83,
           "reference": "redis-benchmark, same script", "goal": ">= 0.8"}
    engine join: 5321 joins/s (ratio 0.83 vs redis-benchmark same script) goal >= 0.8

Anything else a module prints is shown but not parsed. A module that fails or
times out still gets a row, so the table never hides a missing figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERFORMANCE_DOC = ROOT / "docs" / "performance.md"
BENCH_JSON = ROOT / "loadtest" / "reports" / "bench.json"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
NUMBER = r"[-+]?\d[\d,_]*(?:\.\d+)?(?:[eE][-+]?\d+)?"
HUMAN_LINE = re.compile(
    rf"^\s*(?P<name>[^:(]+?):\s+(?P<value>{NUMBER})\s*(?P<unit>[^(]*?)\s*"
    rf"\(\s*ratio\s+(?P<ratio>{NUMBER})\s*x?\s+(?:vs\.?|to)\s+(?P<reference>[^)]*)\)(?P<rest>.*)$",
    re.IGNORECASE,
)
EQUALS_LINE = re.compile(
    rf"^\s*(?P<name>\S.*?)\s{{2,}}(?P<value>{NUMBER})\s*(?P<unit>\S*)\s*=\s*"
    rf"(?P<ratio>{NUMBER})\s*x\s+(?P<reference>.+?)\s*$"
)
# Last resort: "name : 12.3 ms <what the reference is> ratio 4.5x [vs reference]".
LOOSE_LINE = re.compile(
    rf"^\s*(?P<name>[^:]+?)\s*:\s*(?P<value>{NUMBER})\s*(?P<unit>[^\s\d][^\s]*)?(?P<middle>.*?)"
    rf"\bratio\s+(?P<ratio>{NUMBER})\s*x?\s*(?:(?:vs\.?|to)\s+(?P<reference>[^()]*))?(?P<rest>.*)$",
    re.IGNORECASE,
)
GOAL = re.compile(r"goal\s*:?\s*(?P<goal>(?:>=|<=|>|<|=)?\s*" + NUMBER + r"\s*x?)", re.IGNORECASE)


@dataclass
class Figure:
    module: str
    name: str
    value: float | None
    unit: str
    ratio: float | None
    reference: str
    goal: str = ""

    @property
    def met(self) -> bool | None:
        """Whether the figure meets its goal (None: no goal, or nothing to compare).

        A bare number ('>= 0.8') is a goal for the ratio; a number in the figure's own
        unit ('< 20 KiB') is a goal for the value itself."""
        found = re.match(rf"\s*(>=|<=|>|<|=)?\s*({NUMBER})\s*(\S*)", self.goal or "")
        if not found:
            return None
        target = _number(found.group(2))
        unit = found.group(3)
        compared = self.value if unit and unit == self.unit else self.ratio
        if target is None or compared is None or (unit and unit not in {"x", self.unit}):
            return None
        operator = found.group(1) or ">="
        return {
            ">=": compared >= target,
            ">": compared > target,
            "<=": compared <= target,
            "<": compared < target,
            "=": abs(compared - target) < 1e-9,
        }[operator]


def _number(raw: object) -> float | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    try:
        return float(str(raw).replace(",", "").replace("_", ""))
    except (TypeError, ValueError):
        return None


def parse_line(module: str, line: str) -> Figure | None:
    """One figure from one output line, or None. Never raises on odd input."""
    text = line.strip()
    if text.startswith("BENCH "):
        try:
            raw = json.loads(text[6:])
        except ValueError:
            return None
        if not isinstance(raw, dict) or not raw.get("name"):
            return None
        return Figure(
            module,
            str(raw["name"]),
            _number(raw.get("value")),
            str(raw.get("unit", "")),
            _number(raw.get("ratio")),
            str(raw.get("reference", "")),
            str(raw.get("goal", "")),
        )
    for pattern in (HUMAN_LINE, EQUALS_LINE, LOOSE_LINE):
        found = pattern.match(text)
        if found:
            fields = found.groupdict()
            goal = GOAL.search(fields.get("rest") or "")
            reference = fields.get("reference") or fields.get("middle") or ""
            return Figure(
                module,
                found["name"].strip(),
                _number(found["value"]),
                (fields.get("unit") or "").strip(),
                _number(found["ratio"]),
                reference.strip(" :,;"),
                goal["goal"].strip() if goal else "",
            )
    return None


def figures_of(module: str, output: str) -> list[Figure]:
    """A module's figures. When it prints any BENCH line, those alone count (the human
    lines beside them usually repeat the same figures); otherwise the human lines do.
    A figure printed twice under one name keeps its last value."""
    lines = output.splitlines()
    machine = [line for line in lines if line.strip().startswith("BENCH ")]
    found: dict[str, Figure] = {}
    for line in machine or lines:
        figure = parse_line(module, line)
        if figure is not None:
            found[figure.name] = figure
    return list(found.values())


# Minutes of whole rehearsals per run: it has its own target (`make bench-scale`).
OWN_TARGET = {"bench_scale"}


def discover(only: list[str] | None) -> list[str]:
    names = sorted(
        path.stem for path in (ROOT / "loadtest").glob("bench_*.py")
        if path.stem not in OWN_TARGET
    )
    return [name for name in names if not only or any(word in name for word in only)]


def run_module(name: str, timeout_s: float) -> tuple[list[Figure], str]:
    """Run one benchmark module; its figures and a status ('ok', 'exit 1', 'timeout')."""
    started = time.monotonic()
    print(f"== {name}", flush=True)
    try:
        done = subprocess.run(
            [sys.executable, "-m", f"loadtest.{name}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={**os.environ, "TICKETQ_BENCH": "1"},
        )
        output, status = done.stdout, "ok" if done.returncode == 0 else f"exit {done.returncode}"
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        status = f"timeout after {timeout_s:.0f}s"
    print(output, end="" if output.endswith("\n") else "\n", flush=True)
    figures = figures_of(name, output)
    print(f"== {name}: {status}, {len(figures)} figures, {time.monotonic() - started:.0f}s\n")
    return figures, status


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def table(figures: list[Figure], statuses: dict[str, str], load_before: float | None = None) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    # Other work on the machine skews ratios; the load average says how quiet it was.
    load = (
        "" if load_before is None else f" 1-minute load average before the run: {load_before:.1f}."
    )
    lines = [
        f"Measured {when} on {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()} (`make bench`).{load}",
        "",
        "| Benchmark | Figure | Value | Ratio | Reference (same run) | Goal | Met |",
        "|---|---|---|---|---|---|---|",
    ]
    for figure in figures:
        met = {True: "yes", False: "**no**", None: "-"}[figure.met]
        lines.append(
            f"| {figure.module} | {figure.name} | {_cell(figure.value)} {figure.unit} | "
            f"{_cell(figure.ratio)} | {figure.reference} | {figure.goal or '-'} | {met} |"
        )
    for module, status in statuses.items():
        if status != "ok" or not any(f.module == module for f in figures):
            lines.append(f"| {module} | no figures ({status}) | - | - | - | - | - |")
    return "\n".join(lines)


def write_doc(rendered: str, path: Path = PERFORMANCE_DOC) -> None:
    """Replace what lies between the markers; create the page or the markers if missing."""
    block = f"{START}\n{rendered}\n{END}"
    text = path.read_text() if path.exists() else "# Performance\n\n"
    if START in text and END in text and text.index(START) < text.index(END):
        head, tail = text.split(START, 1)[0], text.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def load_previous(path: Path) -> tuple[list[Figure], dict[str, str]]:
    """Figures and statuses of the last run (loadtest/reports/bench.json), if readable."""
    try:
        raw = json.loads(path.read_text())
        fields = ("module", "name", "value", "unit", "ratio", "reference", "goal")
        figures = [Figure(**{k: item.get(k) for k in fields}) for item in raw["figures"]]
        return figures, {str(k): str(v) for k, v in raw["statuses"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return [], {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench", description=__doc__)
    parser.add_argument("--only", nargs="*", help="run modules whose name contains these words")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per module")
    parser.add_argument("--no-write", action="store_true", help="leave docs/performance.md alone")
    parser.add_argument("--list", action="store_true", help="list the modules and stop")
    args = parser.parse_args(argv)
    modules = discover(args.only)
    if args.list or not modules:
        print("\n".join(modules) or "no loadtest/bench_*.py modules found")
        return 0
    figures: list[Figure] = []
    statuses: dict[str, str] = {}
    load_before = os.getloadavg()[0]
    for module in modules:
        found, statuses[module] = run_module(module, args.timeout)
        figures += found
    ran = dict(statuses)
    # A partial run (--only) keeps the other modules' figures from the previous run.
    if args.only:
        old_figures, old_statuses = load_previous(BENCH_JSON)
        figures = [f for f in old_figures if f.module not in ran] + figures
        statuses = {**{m: s for m, s in old_statuses.items() if m not in ran}, **ran}
    rendered = table(figures, statuses, load_before)
    print(rendered)
    BENCH_JSON.parent.mkdir(parents=True, exist_ok=True)
    BENCH_JSON.write_text(
        json.dumps(
            {"statuses": statuses, "figures": [{**asdict(f), "met": f.met} for f in figures]},
            indent=2,
        )
    )
    if not args.no_write:
        write_doc(rendered)
        print(f"\nwrote {PERFORMANCE_DOC.relative_to(ROOT)}")
    return 0 if all(status == "ok" for status in ran.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

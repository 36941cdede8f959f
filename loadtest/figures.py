"""How a benchmark prints one figure: a machine-readable `BENCH {json}` line for
`make bench` (loadtest/bench.py) and a line a person reads (loadtest/README.md)."""

from __future__ import annotations

import json


def figure(
    name: str, value: float, unit: str, ratio: float | None, reference: str, goal: str = ""
) -> None:
    record = {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "ratio": None if ratio is None else round(ratio, 3),
        "reference": reference,
        "goal": goal,
    }
    print("BENCH " + json.dumps(record), flush=True)
    ratio_text = "n/a" if ratio is None else f"{ratio:.2f}"
    print(
        f"{name}: {value:,.1f} {unit} (ratio {ratio_text} vs {reference})"
        + (f" goal {goal}" if goal else ""),
        flush=True,
    )


def note(text: str) -> None:
    print(f"  {text}", flush=True)

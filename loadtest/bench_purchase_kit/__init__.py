"""Shared pieces of the purchase benchmarks (`python -m loadtest.bench_purchase_*`).

A package rather than a `bench_*.py` module so that `make bench` does not run it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from loadtest import stack
from loadtest.figures import figure as figure  # re-exported for this part's benchmarks
from loadtest.figures import note as note

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / ".ticketq" / "bench_purchase"


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str]]:
    """(redis URL, database URL): REDIS_URL / DATABASE_URL, else embedded ones under HOME,
    stopped again afterwards if this benchmark started them."""
    with stack.servers(
        HOME, os.environ.get("REDIS_URL") or None, os.environ.get("DATABASE_URL") or None
    ) as urls:
        yield urls["REDIS_URL"], urls["DATABASE_URL"]

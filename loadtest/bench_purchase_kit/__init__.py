"""Shared pieces of the purchase benchmarks (`python -m loadtest.bench_purchase_*`).

A package rather than a `bench_*.py` module so that `make bench` does not run it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from core.embedded import EmbeddedServices
from loadtest.figures import figure as figure  # re-exported for this part's benchmarks
from loadtest.figures import note as note

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / ".ticketq" / "bench_purchase"


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str]]:
    """(redis URL, database URL): REDIS_URL / DATABASE_URL, else embedded ones under HOME,
    stopped again afterwards if this benchmark started them."""
    redis_url = os.environ.get("REDIS_URL") or None
    database_url = os.environ.get("DATABASE_URL") or None
    embedded = EmbeddedServices(HOME)
    started = False
    if redis_url is None or database_url is None:
        started = embedded.status() == {"redis": "stopped", "postgres": "stopped"}
        urls = embedded.start(want_redis=redis_url is None, want_postgres=database_url is None)
        redis_url = redis_url or urls["REDIS_URL"]
        database_url = database_url or urls["DATABASE_URL"]
    try:
        yield redis_url, database_url
    finally:
        if started:
            embedded.stop()

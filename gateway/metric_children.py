"""Labelled Prometheus children, kept for hot paths.

prometheus_client's `.labels()` takes a lock and rebuilds the label key on every
call; a request path that records two or three metrics pays that each time. Only
for metrics whose children are never removed: a removed child kept here would go
on counting where no scrape sees it.
"""

from __future__ import annotations

import functools
from typing import Any

from prometheus_client.metrics import MetricWrapperBase


@functools.lru_cache(maxsize=4096)
def child(metric: MetricWrapperBase, *labels: str) -> Any:
    return metric.labels(*labels)

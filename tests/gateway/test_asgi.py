"""The uvicorn entry point (gateway/asgi.py) as a server process imports it."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import gc
import gateway.asgi
print(gc.get_freeze_count())
"""


def test_the_start_up_heap_is_kept_out_of_full_collections():
    # A process of its own: the freeze is process-wide. No server is contacted at import.
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0",
           "DATABASE_URL": "postgresql+psycopg://127.0.0.1:1/none", "TICKETQ_ENV": "development"}
    frozen = subprocess.run([sys.executable, "-c", PROBE], env=env, check=True,
                            capture_output=True, text=True).stdout
    assert int(frozen.strip().splitlines()[-1]) > 50_000

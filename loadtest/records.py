"""What each simulated fan and bot did, gathered in one place for the report.

Every Locust process sends its records as Locust custom messages ("tq_record").
Workers send them to the master; a standalone runner delivers them to itself
(LocalRunner.send_message calls the listener in-process). The master, or the
standalone process, keeps them and writes `plan.records_path` when it quits, so
the report sees every fan of a distributed run in one file.

Client clocks are the machine's wall clock in milliseconds; on one machine
every process shares it, across machines keep them NTP-synced (docs/loadtest.md).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("loadtest.records")

RECORD_MESSAGE = "tq_record"


def now_ms() -> int:
    return int(time.time() * 1000)


class RecordStore:
    """Records kept by the master (or the standalone process), by key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: dict[str, dict[str, Any]] = {}

    def add(self, record: dict[str, Any]) -> None:
        with self._lock:
            previous = self.records.get(record["key"])
            # A final record wins over a later "unfinished" one sent at stop.
            if previous is not None and previous.get("final") and not record.get("final"):
                return
            self.records[record["key"]] = record

    def counts(self) -> tuple[int, int]:
        """(final fan records, finished bot records)."""
        with self._lock:
            fans = sum(1 for r in self.records.values() if r["kind"] == "fan" and r.get("final"))
            bots = sum(1 for r in self.records.values() if r["kind"] == "bot" and r.get("final"))
        return fans, bots

    def write(self, path: str) -> None:
        if not path:
            return
        with self._lock:
            records = list(self.records.values())
        payload = {"written_ms": now_ms(), "records": records}
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(payload))
        temporary.replace(target)
        log.info("wrote %d records to %s", len(records), target)


STORE = RecordStore()


def pass_admitted_ms(admission_pass: str, session_seconds: int) -> int | None:
    """When the server admitted this fan, read from the pass itself.

    The pass (queue_engine.credentials) is `<fan>~<drop>~<pass id>~<expires ms>.<ts>.<sig>`:
    signed, not encrypted. Reading its expiry (without trusting it) gives the server's
    admission moment (expiry - session length), so the fairness figure does not
    depend on when each client happened to read its socket.
    Returns None when the pass is not in that form.
    """
    fields = admission_pass.rsplit(".", 2)[0].split("~")
    if len(fields) != 4 or not fields[3].isdigit():
        return None
    return int(fields[3]) - session_seconds * 1000
    return None

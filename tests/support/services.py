"""Start (or borrow) the servers the test suite talks to, and stop what was started."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from bootstrap.migrate import upgrade
from core.db import recreate_database
from core.embedded import EmbeddedServices, start_redis_cluster, stop_redis_cluster
from core.redis_keys import PREFIX


@dataclass
class TestServices:
    folder: Path
    redis_url: str
    database_url: str
    embedded: EmbeddedServices | None
    _cluster_ports: list[int] = field(default_factory=list)

    def cluster_url(self) -> str:
        """A 3-master Redis Cluster on loopback, started on first use."""
        if not self._cluster_ports:
            folder = self.folder / "cluster"
            stop_redis_cluster(folder)
            shutil.rmtree(folder, ignore_errors=True)
            self._cluster_ports = start_redis_cluster(folder)
        return f"redis://127.0.0.1:{self._cluster_ports[0]}/0"

    def stop(self) -> None:
        if self._cluster_ports:
            stop_redis_cluster(self.folder / "cluster")
        if self.embedded is not None:
            self.embedded.stop()


def _fresh_database(server_url: str, database: str) -> str:
    """An empty database of the run's own, migrated from nothing."""
    url = recreate_database(server_url, database)
    upgrade(url)
    return url


def _forget_redis_keys(redis_url: str) -> None:
    """Drop ids restart at 1 in a fresh test database, so old `tq:*` keys must go.

    Only TicketQ's own prefix is touched, never the rest of a borrowed Redis.
    """
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        batch = []
        for key in client.scan_iter(match=f"{PREFIX}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)
    finally:
        client.close()


def start_test_services(folder: Path, database: str) -> TestServices:
    redis_url = os.environ.get("REDIS_URL") or None
    database_url = os.environ.get("DATABASE_URL") or None
    embedded = None
    if redis_url is None or database_url is None:
        embedded = EmbeddedServices(folder)
        urls = embedded.start(want_redis=redis_url is None, want_postgres=database_url is None)
        redis_url = redis_url or urls["REDIS_URL"]
        database_url = database_url or urls["DATABASE_URL"]
    _forget_redis_keys(redis_url)
    return TestServices(
        folder=folder,
        redis_url=redis_url,
        database_url=_fresh_database(database_url, database),
        embedded=embedded,
    )

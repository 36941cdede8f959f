"""Start (or borrow) the servers the test suite talks to, and stop what was started."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from bootstrap.migrate import upgrade
from core.db import database_on_server, recreate_database
from core.embedded import EmbeddedServices, start_redis_cluster, stop_redis_cluster
from tests.support.owned_keys import (
    account_ids_in,
    drop_ids_in,
    forget_accounts_sync,
    forget_drops_sync,
)


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
        # Leave a borrowed Redis as found: the keys of every drop this run created go.
        forget_drops_sync(self.redis_url, drop_ids_in(self.database_url))
        forget_accounts_sync(self.redis_url, account_ids_in(self.database_url))
        if self._cluster_ports:
            stop_redis_cluster(self.folder / "cluster")
        if self.embedded is not None:
            self.embedded.stop()


def _fresh_database(server_url: str, database: str) -> str:
    """An empty database of the run's own, migrated from nothing."""
    url = recreate_database(server_url, database)
    upgrade(url)
    return url


def start_test_services(folder: Path, database: str) -> TestServices:
    redis_url = os.environ.get("REDIS_URL") or None
    database_url = os.environ.get("DATABASE_URL") or None
    embedded = None
    if redis_url is None or database_url is None:
        embedded = EmbeddedServices(folder)
        urls = embedded.start(want_redis=redis_url is None, want_postgres=database_url is None)
        redis_url = redis_url or urls["REDIS_URL"]
        database_url = database_url or urls["DATABASE_URL"]
    # Drop ids restart at 1 in the fresh database, so keys left by an earlier run of the
    # same name (one that died before its clean-up) would collide: the old database
    # still lists that run's drops, and only their keys go, never the rest of Redis.
    earlier_run = database_on_server(database_url, database)
    forget_drops_sync(redis_url, drop_ids_in(earlier_run))
    # Account ids restart too; an earlier run's per-account counters would limit new ones.
    forget_accounts_sync(redis_url, account_ids_in(earlier_run))
    return TestServices(
        folder=folder,
        redis_url=redis_url,
        database_url=_fresh_database(database_url, database),
        embedded=embedded,
    )

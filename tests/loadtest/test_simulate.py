"""A small whole-drop rehearsal inside the suite: its invariants, never its timings.

Runs `ticketq simulate` as a real process (Locust needs gevent's monkey-patching,
which must not touch the suite's own event loop) against the suite's Redis and
Postgres, with its own localstripe, gateway and worker processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.support.services import TestServices

VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
TICKETS, BOTS = 50, 3


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fans", "shape", "locust_workers", "sockets_per_source", "shop_workers"),
    # The second spreads its 150 fans (300 sockets) over three 127.0.0.x source addresses,
    # and has one gateway serve the shop too (the first has a shop of its own, the default).
    [(300, "spike", 0, 20_000, 1), (150, "prequeue", 2, 100, 0)],
    ids=["one-locust-process", "locust-master-and-2-workers"],
)
def test_small_rehearsal_keeps_every_promise(
    services: TestServices, tmp_path: Path, fans: int, shape: str, locust_workers: int,
    sockets_per_source: int, shop_workers: int,
) -> None:
    env = {
        **os.environ,
        "REDIS_URL": services.redis_url,
        "DATABASE_URL": services.database_url,
        "TICKETQ_HOME": str(services.folder),
    }
    args = [str(VENV_BIN / "ticketq"), "simulate", "--"]
    args += ["--fans", str(fans), "--tickets", str(TICKETS), "--duration", "30"]
    args += ["--bots", str(BOTS), "--shape", shape, "--locust-workers", str(locust_workers)]
    args += ["--abandon", "0.1", "--cart-abandon", "0", "--out", str(tmp_path)]
    args += ["--sockets-per-source", str(sockets_per_source)]
    args += ["--shop-workers", str(shop_workers)]
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=170)
    reports = list(tmp_path.glob("*/report.json"))
    assert reports, f"no report written:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    report = json.loads(reports[0].read_text())
    summary = json.dumps({k: report[k] for k in ("invariants", "fans", "payments", "bots",
                                                  "emails")})

    # No oversell: per tier, in the tier counter and in ticket rows.
    for tier in report["tickets"]["tiers"]:
        assert tier["sold"] <= tier["capacity"], summary
        assert tier["tickets_valid"] <= tier["capacity"], summary
    assert sum(t["capacity"] for t in report["tickets"]["tiers"]) == TICKETS
    assert report["sell_out"]["sold"] > 0, "nothing was sold: the rehearsal proved nothing"

    # Every succeeded payment is ticketed or refunded, and nothing is ticketed unpaid.
    payments = report["payments"]
    assert payments["succeeded"] == payments["ticketed"] + payments["refunded"], summary
    assert payments["unreconciled_count"] == 0 and not payments["ticketed_without_payment"]
    assert payments["succeeded"] > 0

    # One email per cause in the outbox: a confirmation per paid order, a refund email per
    # refunded one (the rehearsal's worker has no SMTP server: the rows stay unsent).
    emails = {check["email"]: check for check in report["emails"]["checks"]}
    assert emails["order_confirmation"]["rows"] == emails["order_confirmation"]["expected"] > 0
    assert emails["order_refunded"]["rows"] == emails["order_refunded"]["expected"], summary
    assert report["emails"]["ok"] and report["invariants"]["emails_match_ledger"], summary

    # Bots tried every trick they could reach and won nothing.
    bots = report["bots"]
    assert bots["finished"] == BOTS and bots["attempts"] >= BOTS * 5, summary
    assert bots["successes"] == 0, summary
    # The account farm met the per-address limits (the rehearsal exempts only the crowd's
    # 127.0.0.0/24),
    # and every way round the join's proof-of-work was refused.
    farm = bots["by_attack"]["account_farm"]
    assert farm["attempts"] == 1 and farm["statuses"] == {"429": 1}, summary
    for attack in ("no_challenge", "forged_challenge", "junk_challenge", "borrowed_challenge",
                   "replayed_challenge"):
        assert bots["by_attack"][attack]["attempts"] == BOTS, summary

    # Every fan's story ended in a final state, and every fan reported.
    assert report["fans"]["records"] == fans and report["fans"]["missing_records"] == 0, summary
    assert report["fans"]["unfinished"] == 0, summary
    assert report["invariants"]["all_ok"] is True, summary
    assert done.returncode == 0, done.stdout[-2000:]

    # Each fan connected from the source address its number gave it (all exempt, as above).
    records = json.loads((reports[0].parent / "records.json").read_text())["records"]
    sources = {record.get("source_address") for record in records if record["kind"] == "fan"}
    expected = {None} if sockets_per_source >= 2 * fans else {
        f"127.0.0.{n}" for n in range(1, -(-2 * fans // sockets_per_source) + 1)}
    assert sources == expected, sources

    # The report says which process of the stack used the CPU (sampled while they ran).
    busy = report["run"]["cpu_cores_busy"]
    assert {"localstripe", "gateway", "worker", "locust"} <= set(busy), busy
    assert busy["gateway"] > 0 and "machine (all processes)" in busy, busy
    # With a shop of its own, the orders above were taken and settled (webhooks included)
    # by that second gateway; without one, there is no such process.
    assert (busy.get("shop", 0) > 0) if shop_workers else ("shop" not in busy), busy

    page = (reports[0].parent / "report.html").read_text()
    # Self-contained: three inline charts, nothing fetched from anywhere.
    assert page.count("<svg") == 3 and "<script" not in page and "://" not in page

"""`ticketq reconcile [DROP_ID ...]`: rebuild Redis stock from Postgres and report differences.

Drop ids are positional: the core CLI hands part commands their arguments through
argparse.REMAINDER, which refuses a leading `--option`.
"""

from __future__ import annotations

import argparse
import asyncio

from core.clock import utcnow
from core.db import create_engine, create_sessionmaker
from core.redis_client import close_redis, create_redis
from core.scripts import ScriptRegistry
from core.settings import Settings
from purchase.context import build_context
from purchase.inventory import StockReport
from purchase.reconcile import reconcile_all


def describe(drop_id: int, report: StockReport) -> list[str]:
    lines = []
    for tier_id, (old, new, held) in sorted(report.tiers.items()):
        before = "missing" if old is None else str(old)
        mark = "  (corrected)" if old != new else ""
        lines.append(f"drop {drop_id} tier {tier_id}: stock {before} -> {new}, held {held}{mark}")
    if report.restored_holds:
        lines.append(f"drop {drop_id}: {report.restored_holds} live holds restored from Postgres")
    if report.finished_holds:
        lines.append(f"drop {drop_id}: {report.finished_holds} paid holds already in the ledger")
    for tier_id in report.clamped:
        lines.append(f"drop {drop_id} tier {tier_id}: more held than the ledger allows; stock 0")
    return lines


async def reconcile(settings: Settings, drop_ids: list[int] | None) -> int:
    redis = create_redis(settings.redis_url or "", cluster=settings.redis_cluster)
    engine = create_engine(settings.database_url or "", pool_size=2)
    context = build_context(settings, ScriptRegistry(redis), create_sessionmaker(engine))
    try:
        reports = await reconcile_all(context, now=utcnow(), drop_ids=drop_ids)
    finally:
        await context.aclose()
        await close_redis(redis)
        await engine.dispose()
    corrected = 0
    for drop_id, report in reports.items():
        for line in describe(drop_id, report):
            print(line)
        corrected += len(report.differences)
    print(f"reconciled {len(reports)} drop(s); {corrected} tier stock value(s) corrected")
    return 0


def reconcile_command(settings: Settings, args: argparse.Namespace) -> int:
    parser = argparse.ArgumentParser(prog="ticketq reconcile",
                                     description="rebuild Redis stock from Postgres")
    parser.add_argument("drop_ids", type=int, nargs="*",
                        help="only these drops (default: every direct drop still open)")
    options = parser.parse_args(getattr(args, "rest", []) or [])
    return asyncio.run(reconcile(settings, options.drop_ids or None))

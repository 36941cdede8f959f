"""`ticketq simulate --cluster`: rehearse drops in production's shape on one machine.

An embedded 3-master Redis Cluster (core.embedded, the redis-server the tests use),
Postgres, N gateway processes on their own loopback ports, M workers competing for each
drop's admission lease, and the fans in front: through HAProxy (loadtest.load_balancer,
health checks on /healthz, WebSocket tunnels) or spread over the gateways' addresses
themselves ("dns", as DNS round robin would). Mid-drop one gateway is SIGKILLed and so
is the worker holding the first drop's lease: its fans reconnect elsewhere, another
worker takes the lease over. Several drops run at once, each with its own Locust and
its own report (its keys hash to their own slot: core.redis_keys); the "cluster"
section and invariants come from loadtest.cluster_report. Stops everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.embedded import EmbeddedServices, discard_redis_cluster, start_redis_cluster
from core.redis_keys import DropKeys
from core.settings import Settings
from core.supervisor import Child, Supervisor
from loadtest import cluster_report, ledger_check, load_balancer, report_html, stack
from loadtest.config import Plan
from loadtest.launch import QUIET, start_gateway, start_worker
from loadtest.seed import seed_drop
from loadtest.source_addresses import CROWD_EXEMPT_NETWORKS
from purchase.demo_stripe import register_webhook, start_localstripe

BALANCERS = ("haproxy", "dns")
LEASE_TTL_MS = 1000  # two admission ticks, the least core.settings allows
KILL_AT = 0.3  # share of the sales window after opening at which a gateway dies


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cluster shape (--cluster)")
    group.add_argument("--cluster", action="store_true",
                       help="Redis Cluster, N gateways, M workers")
    group.add_argument("--gateways", type=int, default=3)
    group.add_argument("--workers", type=int, default=2, help="worker processes")
    group.add_argument("--balancer", choices=BALANCERS, default="haproxy")
    group.add_argument("--drops", type=int, default=1, help="drops on sale at once")
    group.add_argument("--no-kill", action="store_true", help="keep every gateway and worker")


def check_options(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    if not options.cluster:
        return
    if options.gateways < 2 or options.workers < 1 or not 1 <= options.drops <= 8:
        parser.error("--cluster needs --gateways >= 2, --workers >= 1, 1 <= --drops <= 8")
    if options.plan_only or options.report_only:
        parser.error("--cluster runs its own Locust per drop: no --plan-only/--report-only")
    if options.balancer == "haproxy" and not load_balancer.available():
        parser.error("--balancer haproxy needs /usr/sbin/haproxy (apt-get install haproxy)")


def run(options: argparse.Namespace, settings: Settings) -> int:
    from loadtest.simulate import drop_spec

    home = settings.home / "simulate-cluster"
    folder = home / "redis-cluster"
    discard_redis_cluster(folder)  # a run killed before its cleanup left one behind
    ports = start_redis_cluster(folder)
    embedded = EmbeddedServices(home)
    postgres_was = embedded.status()["postgres"]
    try:
        database_url = os.environ.get("DATABASE_URL") or embedded.start(want_redis=False)[
            "DATABASE_URL"
        ]
        urls = {"REDIS_URL": f"redis://127.0.0.1:{ports[0]}/0", "DATABASE_URL": database_url}
        settings = settings.replace(
            redis_url=urls["REDIS_URL"], database_url=database_url, redis_cluster=True
        )
        from bootstrap.migrate import upgrade

        upgrade(database_url)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = Path(options.out).resolve() / f"{stamp}-cluster-{secrets.token_hex(2)}"
        out.mkdir(parents=True, exist_ok=True)
        spec = drop_spec(options)
        # max_active never binds: the pace is the only limit the pace invariant looks at.
        spec = dataclasses.replace(spec, max_active=options.max_active or options.fans)
        return _rehearse(options, settings, urls, spec, out)
    finally:
        discard_redis_cluster(folder)
        if postgres_was == "stopped" and not os.environ.get("DATABASE_URL"):
            embedded.stop()


def _rehearse(
    options: argparse.Namespace, settings: Settings, urls: dict[str, str], spec: Any, out: Path
) -> int:
    from loadtest.simulate import STRIPE_KEY, build_report, make_plan

    procs = Supervisor(out / "logs", cwd=stack.ROOT)
    try:
        env = {
            **urls,
            "REDIS_CLUSTER": "1",
            "TICKETQ_HOME": str(settings.home / "simulate-cluster"),
            "TICKETQ_SECRET_KEY": settings.secret_key,
            "TICKETQ_ENV": "development",
            "STRIPE_API_KEY": STRIPE_KEY,
            "TICKETQ_AUTH_LIMIT_EXEMPT_NETWORKS": CROWD_EXEMPT_NETWORKS,
            # A takeover waits out the dead worker's lease. admit_batch now owes that gap
            # in full (issue 14); the short lease still keeps the rehearsal's takeover
            # quick (the default 3 s once lost ~13 % of pace: docs/scaling.md).
            "TICKETQ_LEASE_TTL_MS": str(LEASE_TTL_MS),
        }
        stripe_url = start_localstripe(procs).url
        secret = "whsec_" + secrets.token_hex(16)
        env.update(STRIPE_API_BASE=stripe_url, STRIPE_WEBHOOK_SECRET=secret)
        gateways = [
            start_gateway(procs, env, name=f"gateway-{i}", options=(*QUIET, "--workers", "1"))
            for i in range(options.gateways)
        ]
        names = [g.name for g in gateways]
        if options.balancer == "haproxy":
            pairs = [(g.name, g.url.removeprefix("http://")) for g in gateways]
            base_url, gateway_urls = load_balancer.start_haproxy(procs, pairs, out).url, []
        else:
            base_url, gateway_urls = gateways[0].url, [g.url for g in gateways]
        register_webhook(stripe_url, base_url, secret, name="simulate-cluster")
        workers = [start_worker(procs, env, name=f"worker-{i}") for i in range(options.workers)]
        plans: list[Plan] = []
        for index in range(options.drops):
            seeded = asyncio.run(seed_drop(settings, spec))
            drop_out = out / f"drop-{index + 1}"
            drop_out.mkdir()
            plan = make_plan(options, seeded, spec, base_url, drop_out, secret)
            plan.gateway_urls = gateway_urls
            plan.save(drop_out / "plan.json")
            plans.append(plan)
        print(
            f"rehearsing {len(plans)} drop(s) on a 3-master Redis Cluster: {options.fans} fans "
            f"each, {len(gateways)} gateways via {options.balancer}, {len(workers)} workers ...",
            flush=True,
        )
        # The last gateway dies: in dns mode the first one also receives Stripe's webhooks.
        victim = None if options.no_kill else gateways[-1]
        killer = _Killer(procs, plans[0], victim, workers, settings)
        if not options.no_kill:
            killer.start()
        runs, cpu = _run_locusts(plans, procs, options.locust_workers)
        killer.join()
        for run in runs:
            run.update(cpu)
        return _reports(options, settings, urls, plans, runs, names, killer, stripe_url,
                        STRIPE_KEY, build_report)
    finally:
        procs.stop_all()


class _Killer(threading.Thread):
    """SIGKILLs a gateway, then the worker pacing the first drop, KILL_AT into its window."""

    def __init__(self, procs: Supervisor, plan: Plan, gateway: Child | None,
                 workers: list[Child], settings: Settings) -> None:
        super().__init__(daemon=True)
        self.procs, self.plan, self.gateway, self.workers = procs, plan, gateway, workers
        self.settings = settings
        self.killed: dict[str, Any] = {}

    def run(self) -> None:
        at_ms = self.plan.opens_at_ms + KILL_AT * self.plan.duration_s * 1000
        time.sleep(max(0.0, at_ms / 1000 - time.time()))
        if self.gateway is not None:
            os.killpg(self.gateway.pid, signal.SIGKILL)
            self.killed["gateway"] = self.gateway.name
            self.killed["gateway_killed_ms"] = int(time.time() * 1000)
        holder = self._lease_holder()
        for worker in self.workers:
            if holder and holder.endswith(f":{worker.pid}"):
                os.killpg(worker.pid, signal.SIGKILL)
                self.killed.update(worker=worker.name, worker_killed_ms=int(time.time() * 1000))
        self.killed["lease_before"] = holder
        time.sleep(max(2.0, self.settings.lease_ttl_ms / 1000 * 2))
        self.killed["lease_after"] = self._lease_holder()

    def _lease_holder(self) -> str | None:
        import redis

        client = redis.RedisCluster.from_url(self.settings.redis_url or "")
        try:
            value = client.get(DropKeys(self.plan.drop_id).lease)
            return value.decode() if isinstance(value, bytes) else value
        finally:
            client.close()


def _run_locusts(
    plans: list[Plan], procs: Supervisor, locust_workers: int
) -> tuple[list[dict[str, Any]], dict[str, dict[str, float]]]:
    """One Locust per drop (a master with `locust_workers` workers, or standalone), all at
    once, bounded by the drops' windows; (each drop's run facts, cores busy meanwhile:
    over the run and in its busiest seconds)."""
    from loadtest.simulate import start_locust

    with stack.CpuWatch(procs) as cpu:
        started = [
            start_locust(Path(plan.records_path).parent / "plan.json", plan,
                         Path(plan.records_path).parent, locust_workers, procs,
                         name=f"locust-{index + 1}")
            for index, plan in enumerate(plans)
        ]
        runs = [locust.wait() for locust in started]
    return runs, {"cpu_cores_busy": cpu.cores_busy(), "peak_cores_busy": cpu.peak_cores_busy()}


def _reports(options: argparse.Namespace, settings: Settings, urls: dict[str, str],
             plans: list[Plan], runs: list[dict[str, Any]], names: list[str], killer: _Killer,
             stripe_url: str, stripe_key: str, build_report: Any) -> int:
    summary: dict[str, Any] = {"balancer": options.balancer, "gateways": names,
                               "workers": options.workers, "killed": killer.killed, "drops": []}
    for plan, locust_run in zip(plans, runs, strict=True):
        drop_out = Path(plan.records_path).parent
        run = {"mode": "cluster", "balancer": options.balancer, "gateways": len(names),
               "workers": options.workers, "redis": "cluster, 3 masters",
               "locust_workers": options.locust_workers, **locust_run, "out": str(drop_out)}
        order = ledger_check.join_order(urls["REDIS_URL"], True, plan.drop_id)
        built = build_report(drop_out, plan, urls["DATABASE_URL"], run, stripe_url, stripe_key,
                             join_order=order)
        # A Locust stopped at its time limit writes no records: its fans count as unfinished.
        records_file = drop_out / "records.json"
        records = json.loads(records_file.read_text())["records"] if records_file.exists() else []
        fans = [r for r in records if r.get("kind") == "fan"]
        first = plan is plans[0]
        section, extra = cluster_report.cluster_section(
            fans, gateways=names, killed_gateway=killer.killed.get("gateway") if first else None,
            balancer=options.balancer, configured_per_minute=plan.admit_per_minute,
            opens_at_ms=plan.opens_at_ms, fairness=built["fairness"],
        )
        if first and not options.no_kill:
            section["killed"] = killer.killed
            # Another worker paces the drop once the killed one's lease ran out.
            extra["lease_taken_over"] = bool(
                killer.killed.get("worker") and killer.killed.get("lease_after")
                and killer.killed["lease_after"] != killer.killed.get("lease_before"))
        invariants = {k: v for k, v in built["invariants"].items() if k != "all_ok"}
        invariants.update(extra)
        built["invariants"] = {**invariants, "all_ok": all(invariants.values())}
        built["cluster"] = section
        (drop_out / "report.json").write_text(json.dumps(built, indent=2, default=str))
        (drop_out / "report.html").write_text(report_html.render_html(built))
        summary["drops"].append({"drop_id": plan.drop_id, "out": str(drop_out),
                                 "invariants": built["invariants"], "cluster": section,
                                 "join_latency_ms": built["join_latency_ms"],
                                 "final_states": built["fans"]["final_states"]})
        print(render_cluster_text(plan.drop_id, section, built["invariants"]))
    top = Path(plans[0].records_path).parent.parent / "cluster-report.json"
    top.write_text(json.dumps(summary, indent=2, default=str))
    print(f"cluster report: {top}")
    return 0 if all(d["invariants"]["all_ok"] for d in summary["drops"]) else 1


def render_cluster_text(drop_id: int, section: dict[str, Any], invariants: dict[str, bool]) -> str:
    loss, pace = section["gateway_loss"], section["admission_pace"]
    lines = [
        f"drop {drop_id} (cluster shape, fans via {section['balancer']}):",
        "  sockets per gateway: "
        + ", ".join(f"{k} {v}" for k, v in section["sockets_per_gateway"].items()),
        f"  killed {loss['killed']}: {loss['fans_on_killed']} fans had a socket there, "
        f"{loss['reconnected']} reconnected elsewhere, {loss['kept_place']} kept their place",
        f"  admission while backlogged: {pace.get('observed_per_minute')}/min of "
        f"{pace['configured_per_minute']} (ratio {pace.get('ratio')})",
        "  invariants: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}"
                                     for k, v in invariants.items() if k != "all_ok"),
    ]
    return "\n".join(lines)

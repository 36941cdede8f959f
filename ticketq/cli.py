"""The `ticketq` command: serve, worker, migrate, seed-demo, services, keys, demo,
screenshots.

Commands that need servers resolve them the same way: REDIS_URL / DATABASE_URL
when set, else the embedded servers under TICKETQ_HOME (never in production).
Every command is an imported function (PART_COMMANDS lists the parts' own), so a
renamed command fails at import instead of when someone first runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn

from bootstrap.migrate import upgrade
from core import logs
from core.embedded import EmbeddedServices
from core.keys import generate_keys
from core.settings import Settings, SettingsError
from gateway.serving import GATEWAY_APP, UVICORN_OPTIONS, ServerOptions
from loadtest.capacity import capacity_command
from loadtest.simulate import simulate_command
from lottery.cli import verify_draw_command
from purchase.cli import reconcile_command
from ticketq.demo import demo_stack, run_demo, seed_demo
from ticketq.demo_cluster import (
    BALANCERS,
    ClusterShape,
    check_cluster_settings,
    cluster_demo_stack,
)
from ticketq.worker import run_worker, select_jobs

MAX_DEMO_PROCESSES = 16


def resolve_servers(settings: Settings) -> Settings:
    """Fill in embedded server URLs for whatever REDIS_URL / DATABASE_URL leave unset."""
    if settings.redis_url and settings.database_url:
        return settings
    if settings.is_production:
        raise SettingsError(["REDIS_URL and DATABASE_URL must be set in production"])
    urls = EmbeddedServices(settings.home).start(
        want_redis=not settings.redis_url, want_postgres=not settings.database_url
    )
    return settings.replace(
        redis_url=settings.redis_url or urls["REDIS_URL"],
        database_url=settings.database_url or urls["DATABASE_URL"],
    )


def export_servers(settings: Settings) -> None:
    """Child processes (uvicorn workers, the worker) read the same URLs from the environment."""
    os.environ["REDIS_URL"] = settings.redis_url or ""
    os.environ["DATABASE_URL"] = settings.database_url or ""


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    settings = resolve_servers(settings)
    upgrade(settings.database_url or "")
    print("migrations applied (alembic upgrade heads)")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    settings.check_production()
    settings = resolve_servers(settings)
    export_servers(settings)
    uvicorn.run(
        GATEWAY_APP,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        **ServerOptions(**{**UVICORN_OPTIONS, "backlog": settings.backlog}),
    )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    settings.check_production()
    settings = resolve_servers(settings)
    logs.configure(settings.log_format)
    try:
        jobs = select_jobs(args.only)
    except ValueError as exc:
        print(f"ticketq worker: {exc}", file=sys.stderr)
        return 2
    asyncio.run(run_worker(settings, jobs))
    return 0


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    settings = resolve_servers(settings)
    result = asyncio.run(seed_demo(settings.database_url or ""))
    print(json.dumps(result, indent=2))
    return 0


def cmd_services(settings: Settings, args: argparse.Namespace) -> int:
    services = EmbeddedServices(settings.home)
    if args.action == "start":
        urls = services.start()
        for name, url in urls.items():
            print(f"{name}={url}")
    elif args.action == "stop":
        stopped = services.stop()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    else:
        for name, state in services.status().items():
            print(f"{name}: {state}")
    return 0


def cmd_keys(settings: Settings, args: argparse.Namespace) -> int:
    created = generate_keys(settings.keys_dir, force=args.force)
    for line in created:
        print(line)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    # Unset options keep ClusterShape's defaults (the one place they are written).
    given = {name: getattr(args, name) for name in ("gateways", "workers", "balancer")
             if getattr(args, name) is not None}
    if not args.cluster:
        if given:
            options = ", ".join(f"--{name}" for name in given)
            print(f"ticketq demo: {options} only with --cluster", file=sys.stderr)
            return 2
        return run_demo(settings, demo_stack(settings, port=args.port))
    shape = ClusterShape(**given)
    check_cluster_settings(settings, shape)
    return run_demo(settings, cluster_demo_stack(settings, shape, port=args.port))


def _process_count(text: str) -> int:
    """1 to MAX_DEMO_PROCESSES: a typo must not fork a hundred gateways."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= count <= MAX_DEMO_PROCESSES:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_DEMO_PROCESSES}, not {count}")
    return count


def cmd_screenshots(settings: Settings, args: argparse.Namespace) -> int:
    from ticketq.screenshots import take_screenshots

    written = take_screenshots(settings, args.out)
    print(f"{len(written)} screenshots in {args.out}; open {args.out / 'index.html'}")
    return 0


PartCommand = Callable[[Settings, argparse.Namespace], int]


def _part_command(command: PartCommand) -> PartCommand:
    """A command implemented by a part; its servers are resolved first when it needs them."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        asks_for_help = bool({"-h", "--help"} & set(args.rest))
        if args.needs_servers and not asks_for_help:
            settings = resolve_servers(settings)
        return command(settings, args)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ticketq", description="TicketQ waiting room and drop engine"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway (HTTP, WebSockets, pages)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="run background jobs (admission, sweeps, settlement)")
    worker.add_argument("--only", nargs="*", help="run only jobs whose name contains these words")
    worker.set_defaults(handler=cmd_worker)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(handler=cmd_migrate)
    sub.add_parser("seed-demo", help="create the demo venue, event, tiers and drop").set_defaults(
        handler=cmd_seed_demo
    )

    services = sub.add_parser("services", help="embedded Redis and Postgres under TICKETQ_HOME")
    services.add_argument("action", choices=["start", "stop", "status"])
    services.set_defaults(handler=cmd_services)

    keys = sub.add_parser("keys", help="generate a secret key and ticket signing keys")
    keys.add_argument("--force", action="store_true", help="replace existing keys")
    keys.set_defaults(handler=cmd_keys)

    demo = sub.add_parser("demo", help="start everything with a demo drop (make demo)")
    demo.add_argument("--port", type=int)
    demo.add_argument("--cluster", action="store_true",
                      help="production's shape: a 3-master Redis Cluster, several gateways "
                           "behind HAProxy, several workers (make demo-cluster)")
    demo.add_argument("--gateways", type=_process_count,
                      help="gateway processes with --cluster (default 3)")
    demo.add_argument("--workers", type=_process_count,
                      help="worker processes with --cluster (default 2)")
    demo.add_argument("--balancer", choices=BALANCERS,
                      help="with --cluster: haproxy, or dns (fans open any gateway); "
                           "default haproxy when installed, else dns")
    demo.set_defaults(handler=cmd_demo)

    screenshots = sub.add_parser(
        "screenshots", help="every page of the demo, desktop and phone (make screenshots)")
    screenshots.add_argument("--out", type=Path, default=Path("screenshots"),
                             help="folder for the PNGs and index.html (default: screenshots)")
    screenshots.set_defaults(handler=cmd_screenshots)

    for name, target, help_text, needs_servers in PART_COMMANDS:
        # The part parses its own arguments (args.rest), options included.
        part = sub.add_parser(name, help=help_text, add_help=False)
        part.set_defaults(
            handler=_part_command(target), needs_servers=needs_servers, takes_rest=True
        )
    return parser


# Commands owned by parts: (name, function, help, needs servers). The function receives
# (settings, args) with `args.rest` holding its own arguments; servers are resolved
# first (embedded ones started) when the command needs them.
PART_COMMANDS: list[tuple[str, PartCommand, str, bool]] = [
    ("reconcile", reconcile_command, "rebuild Redis stock from Postgres", True),
    ("verify-draw", verify_draw_command, "recompute a lottery draw from its published values",
     True),
    # simulate starts its own stack under TICKETQ_HOME/simulate.
    ("simulate", simulate_command, "rehearse a drop and print a report", False),
    ("capacity", capacity_command, "the machines a drop needs, from measured per-fan costs",
     False),
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if getattr(args, "takes_rest", False):
        args.rest = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        settings = Settings.from_env()
        result: int = args.handler(settings, args)
        return result
    except SettingsError as exc:
        print("ticketq: refusing to start:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

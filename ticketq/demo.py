"""`make demo`: a whole TicketQ on one machine, with a drop whose pre-queue is open now.

`seed_demo` (catalog.seed_sale) is idempotent for accounts, venue, event and tiers,
and schedules a fresh drop on every run (pre-queue open now, sales opening two minutes later),
so a second `make demo` in the same folder shows a live drop again.
`demo_stack` starts the embedded servers it needs, the worker and the gateway, and
stops everything it started when its block ends; `run_demo` (`make demo`) prints what
to open and holds the stack until Ctrl-C; `ticketq screenshots` photographs its pages.
`ticketq demo --cluster` (ticketq.demo_cluster) builds production's shape instead, on the
same `prepare_demo` and banner.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import catalog
from accounts.passwords import hash_password
from core.clock import utcnow
from core.db import create_engine, create_sessionmaker
from core.embedded import EmbeddedServices, free_port
from core.models import Role
from core.settings import Settings
from core.supervisor import ChildFailed, Supervisor
from loadtest.launch import start_gateway, start_worker
from mail.mailbox import mailbox_folder

DEMO_PASSWORD = "ticketq-demo"
DEMO_ACCOUNTS = {
    "admin@ticketq.demo": ("Ada Admin", Role.ADMIN),
    "venue@ticketq.demo": ("Vera Venue", Role.VENUE_ADMIN),
    "door@ticketq.demo": ("Dan Door", Role.SCANNER),
    "fan@ticketq.demo": ("Fay Fan", Role.FAN),
}
DEMO_VENUE = "TicketQ Demo Hall"
DEMO_EVENT = "The Demo Drop: Live"
# What localstripe does with each number typed into the card field (not pm_card_*
# shortcuts: pm_card_visa_chargeDeclined pays in localstripe; it declines only on attach).
DEMO_CARDS = (
    ("4242 4242 4242 4242", "pays"),
    ("4000 0000 0000 0341", "declined when charged (the tickets stay held)"),
    ("4000 0025 0000 3155", "asks for 3-D Secure (answer the dialog in the page)"),
)
# name: (price in cents, currency, capacity, per-fan limit)
DEMO_TIERS: dict[str, tuple[int, str, int, int]] = {
    "GA": (4500, "EUR", 500, 4),
    "VIP": (14900, "EUR", 50, 2),
}


# Sales open this long after the seed, so `make demo` shows the pre-queue first.
SALES_OPEN_IN = timedelta(minutes=2)


async def seed_demo(
    database_url: str, *, sales_open_in: timedelta = SALES_OPEN_IN
) -> dict[str, Any]:
    now = utcnow()
    password_hash = hash_password(DEMO_PASSWORD)
    spec = catalog.SaleSpec(
        venue=DEMO_VENUE,
        event=DEMO_EVENT,
        starts_at=now + timedelta(days=30),
        ends_at=now + timedelta(days=30, hours=4),
        description="A demo event: join the queue, buy GA or VIP, scan at the door.",
        tiers=tuple(
            catalog.TierSpec(name, price, capacity, limit, currency=currency)
            for name, (price, currency, capacity, limit) in DEMO_TIERS.items()
        ),
        schedule=catalog.DropSchedule(
            mode="direct",
            prequeue_opens_at=now - timedelta(minutes=1),
            opens_at=now + sales_open_in,
            closes_at=now + timedelta(days=1),
            admit_per_minute=60,
            max_active=20,
            session_seconds=600,
        ),
        accounts=tuple(
            catalog.AccountSpec(email, name, role, password_hash)
            for email, (name, role) in DEMO_ACCOUNTS.items()
        ),
    )
    engine = create_engine(database_url, pool_size=2)
    try:
        async with create_sessionmaker(engine)() as session:
            seeded = await catalog.seed_sale(session, spec)
    finally:
        await engine.dispose()
    return {
        "venue_id": seeded.venue_id,
        "event_id": seeded.event_id,
        "drop_id": seeded.drop_id,
        "tiers": seeded.tier_ids,
        "logins": {email: DEMO_PASSWORD for email in DEMO_ACCOUNTS},
    }


def _banner(stack: DemoStack) -> str:
    base_url, drop_id = stack.base_url, stack.seeded["drop_id"]
    lines = [
        "",
        "TicketQ demo is running. Open:",
        f"  Fan waiting room   {base_url}/drops/{drop_id}",
        f"  Venue dashboard    {base_url}/venue/drops/{drop_id}",
        f"  My tickets         {base_url}/me/tickets",
        f"  Door scanner       {base_url}/scan",
        f"  Dev mailbox        {base_url}/dev/mail   (what fans were emailed)",
        f"  API document       {base_url}/openapi.json",
        f"  Health / metrics   {base_url}/healthz   {base_url}/metrics",
        *(["", *stack.shape_lines] if stack.shape_lines else []),
        "",
        f"Demo logins (password '{DEMO_PASSWORD}'):",
        *(f"  {email:<22} {role.value}" for email, (_, role) in DEMO_ACCOUNTS.items()),
        "",
        "Sales open two minutes after start; the pre-queue is open now.",
        "Cards to type on the buy and lottery pages (expiry 12/30, CVC 123):",
        *(f"  {number}  {what}" for number, what in DEMO_CARDS),
        "Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class DemoStack:
    """A running demo: where fans go, what was seeded, and its processes. `shape_lines`
    describe a shape other than one gateway (`ticketq demo --cluster`) for the banner."""

    base_url: str
    seeded: dict[str, Any]
    supervisor: Supervisor
    shape_lines: tuple[str, ...] = ()


def prepare_demo(
    settings: Settings, supervisor: Supervisor, *, front_port: int,
    sales_open_in: timedelta = SALES_OPEN_IN,
) -> tuple[dict[str, Any], dict[str, str]]:
    """What every demo shape does before its gateways start: migrations, the demo sale,
    localstripe (its webhooks to `front_port`, where fans reach a gateway) and a mail
    catcher. `settings` carries the server URLs; returns (seeded, environment for the
    gateways and workers)."""
    from bootstrap.migrate import upgrade

    upgrade(settings.database_url or "")
    seeded = asyncio.run(seed_demo(settings.database_url or "", sales_open_in=sales_open_in))
    env = {
        "TICKETQ_HOME": str(settings.home),  # keys and the mailbox beside its servers
        "REDIS_URL": settings.redis_url or "",
        "DATABASE_URL": settings.database_url or "",
        "PORT": str(front_port),
    }
    env.update(_demo_payments(settings, front_port, supervisor))
    env.update(_demo_mail(settings, supervisor))
    return seeded, env


@contextmanager
def demo_stack(
    settings: Settings, *, host: str | None = None, port: int | None = None,
    sales_open_in: timedelta = SALES_OPEN_IN,
) -> Iterator[DemoStack]:
    """The whole demo, seeded, until the block ends: the embedded servers that
    REDIS_URL / DATABASE_URL leave unset, migrations, the demo sale, localstripe and a
    mail catcher (unless configured), the worker and the gateway. On the way out it stops
    every process it started, and the embedded servers only if it started them.

    Raises ChildFailed when a process does not come up (its log tail attached)."""
    host = host or settings.host
    port = port or settings.port
    services = EmbeddedServices(settings.home)
    was_running = services.status()
    urls = services.start(
        want_redis=not settings.redis_url, want_postgres=not settings.database_url
    )
    settings = settings.replace(
        redis_url=settings.redis_url or urls["REDIS_URL"],
        database_url=settings.database_url or urls["DATABASE_URL"],
    )
    supervisor = Supervisor(settings.home / "logs")
    try:
        seeded, env = prepare_demo(
            settings, supervisor, front_port=port, sales_open_in=sales_open_in)
        start_worker(supervisor, env)
        gateway = start_gateway(supervisor, env, host=host, port=port, options=())
        yield DemoStack(gateway.url, seeded, supervisor)
    finally:
        supervisor.stop_all()
        # Stop only the embedded servers this demo started, not ones already running.
        if was_running["redis"] == "stopped" and was_running["postgres"] == "stopped":
            services.stop()


def run_demo(settings: Settings, stack: AbstractContextManager[DemoStack]) -> int:
    """Enter `stack` (demo_stack, or ticketq.demo_cluster's), print the banner and hold it
    until Ctrl-C or SIGTERM; leaving the block stops everything it started."""
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    try:
        with stack as running:
            try:
                print(_banner(running), flush=True)
                while not stop_requested and running.supervisor.all_running():
                    time.sleep(0.5)
            finally:
                print("\nstopping TicketQ demo ...", flush=True)
        return 0
    except ChildFailed as failed:
        print(f"the {failed.name} did not start; see {settings.home / 'logs'}:", file=sys.stderr)
        print(failed.log_tail, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        print("stopped.", flush=True)


def _demo_mail(settings: Settings, supervisor: Supervisor) -> dict[str, str]:
    """A local SMTP server keeping mail under TICKETQ_HOME (shown at /dev/mail), unless
    SMTP_URL points somewhere already."""
    if settings.smtp_url:
        return {}
    smtp_port = free_port()
    supervisor.start("dev_smtp", [
        sys.executable, "-m", "mail.dev_smtp", "--folder", str(mailbox_folder(settings.home)),
        "--host", "127.0.0.1", "--port", str(smtp_port)])
    return {"SMTP_URL": f"smtp://127.0.0.1:{smtp_port}"}


def _demo_payments(settings: Settings, port: int, supervisor: Supervisor) -> dict[str, str]:
    """Offline payments for the demo: a localstripe process, unless Stripe is configured."""
    if settings.stripe_api_key:  # real (or explicitly configured) Stripe
        return {}
    from purchase.demo_stripe import start_demo_stripe

    return start_demo_stripe(settings, port, supervisor)

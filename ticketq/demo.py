"""`make demo`: a whole TicketQ on one machine, with a drop whose pre-queue is open now.

`seed_demo` is idempotent for accounts, venue, event and tiers, and schedules a
fresh drop on every run (pre-queue open now, sales opening two minutes later),
so a second `make demo` in the same folder shows a live drop again.
`run_demo` starts the embedded servers it needs, the worker and the gateway,
prints what to open, and on Ctrl-C stops everything it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import catalog
from accounts import users as accounts
from core.clock import utcnow
from core.db import create_engine, create_sessionmaker
from core.embedded import EmbeddedServices
from core.models import Event, Role, TicketTier, User, Venue, VenueStaff
from core.settings import Settings
from gateway.serving import GATEWAY_APP, uvicorn_args

DEMO_PASSWORD = "ticketq-demo"
DEMO_ACCOUNTS = {
    "admin@ticketq.demo": ("Ada Admin", Role.ADMIN),
    "venue@ticketq.demo": ("Vera Venue", Role.VENUE_ADMIN),
    "door@ticketq.demo": ("Dan Door", Role.SCANNER),
    "fan@ticketq.demo": ("Fay Fan", Role.FAN),
}
DEMO_VENUE = "TicketQ Demo Hall"
DEMO_EVENT = "The Demo Drop: Live"
# name: (price in cents, currency, capacity, per-fan limit)
DEMO_TIERS: dict[str, tuple[int, str, int, int]] = {
    "GA": (4500, "EUR", 500, 4),
    "VIP": (14900, "EUR", 50, 2),
}


async def _account(session: AsyncSession, email: str, name: str, role: str) -> User:
    user = await session.scalar(select(User).where(User.email == email))
    if user is None:
        user = await accounts.sign_up(
            session, email=email, password=DEMO_PASSWORD, name=name, role=role
        )
    return user


async def seed_demo(database_url: str) -> dict[str, Any]:
    engine = create_engine(database_url, pool_size=2)
    try:
        async with create_sessionmaker(engine)() as session:
            users = {
                email: await _account(session, email, name, role)
                for email, (name, role) in DEMO_ACCOUNTS.items()
            }
            admin, venue_admin = users["admin@ticketq.demo"], users["venue@ticketq.demo"]
            venue = await session.scalar(select(Venue).where(Venue.name == DEMO_VENUE))
            if venue is None:
                venue = await catalog.create_venue(
                    session, venue_admin, name=DEMO_VENUE, city="Lyon", timezone="Europe/Paris"
                )
            for email, role in (
                ("door@ticketq.demo", Role.SCANNER),
                ("venue@ticketq.demo", Role.VENUE_ADMIN),
            ):
                if await session.get(VenueStaff, (venue.id, users[email].id)) is None:
                    await catalog.add_staff(
                        session, admin, venue_id=venue.id, email=email, role=role
                    )
            now = utcnow()
            event = await session.scalar(
                select(Event).where(Event.venue_id == venue.id, Event.title == DEMO_EVENT)
            )
            if event is None:
                event = await catalog.create_event(
                    session,
                    venue_admin,
                    venue_id=venue.id,
                    title=DEMO_EVENT,
                    starts_at=now + timedelta(days=30),
                    ends_at=now + timedelta(days=30, hours=4),
                    description="A demo event: join the queue, buy GA or VIP, scan at the door.",
                    published=True,
                )
            tiers = {tier.name: tier for tier in await catalog.event_tiers(session, event.id)}
            for name, (price, currency, capacity, limit) in DEMO_TIERS.items():
                if name not in tiers:
                    tiers[name] = await catalog.create_tier(
                        session,
                        venue_admin,
                        event_id=event.id,
                        name=name,
                        price_cents=price,
                        currency=currency,
                        capacity=capacity,
                        per_fan_limit=limit,
                    )
            drop = await catalog.create_drop(
                session,
                venue_admin,
                event_id=event.id,
                schedule=catalog.DropSchedule(
                    mode="direct",
                    prequeue_opens_at=now - timedelta(minutes=1),
                    opens_at=now + timedelta(minutes=2),
                    closes_at=now + timedelta(days=1),
                    admit_per_minute=60,
                    max_active=20,
                    session_seconds=600,
                ),
            )
            return {
                "venue_id": venue.id,
                "event_id": event.id,
                "drop_id": drop.id,
                "tiers": {
                    name: tier.id for name, tier in tiers.items() if isinstance(tier, TicketTier)
                },
                "logins": {email: DEMO_PASSWORD for email in DEMO_ACCOUNTS},
            }
    finally:
        await engine.dispose()


def _banner(base_url: str, seeded: dict[str, Any]) -> str:
    drop_id = seeded["drop_id"]
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
        "",
        f"Demo logins (password '{DEMO_PASSWORD}'):",
        *(f"  {email:<22} {role.value}" for email, (_, role) in DEMO_ACCOUNTS.items()),
        "",
        "Sales open two minutes after start; the pre-queue is open now.",
        "Test card: pm_card_visa (declined: pm_card_visa_chargeDeclined). Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def _start(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        return subprocess.Popen(args, env=env, stdout=log_file, stderr=subprocess.STDOUT)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> bool:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def run_demo(settings: Settings, *, port: int | None = None) -> int:
    import asyncio

    from bootstrap.migrate import upgrade

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
    children: list[subprocess.Popen[bytes]] = []
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    try:
        upgrade(settings.database_url or "")
        seeded = asyncio.run(seed_demo(settings.database_url or ""))
        env = {
            **os.environ,
            "REDIS_URL": settings.redis_url or "",
            "DATABASE_URL": settings.database_url or "",
            "PORT": str(port),
        }
        env.update(_demo_payments(settings, env, port, children))
        env.update(_demo_mail(settings, children))
        logs = settings.home / "logs"
        children.append(
            _start([sys.executable, "-m", "ticketq.cli", "worker"], env, logs / "worker.log")
        )
        gateway = _start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                GATEWAY_APP,
                "--host",
                settings.host,
                "--port",
                str(port),
                *uvicorn_args(),
            ],
            env,
            logs / "gateway.log",
        )
        children.append(gateway)
        base_url = f"http://{settings.host}:{port}"
        if not _wait_healthy(f"{base_url}/healthz", gateway):
            print(
                f"the gateway did not become healthy; see {logs / 'gateway.log'}", file=sys.stderr
            )
            return 1
        print(_banner(base_url, seeded), flush=True)
        while not stop_requested and all(child.poll() is None for child in children):
            time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        print("\nstopping TicketQ demo ...", flush=True)
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        # Stop only the embedded servers this demo started, not ones already running.
        if was_running["redis"] == "stopped" and was_running["postgres"] == "stopped":
            services.stop()
        print("stopped.", flush=True)


def _demo_mail(settings: Settings, children: list[subprocess.Popen[bytes]]) -> dict[str, str]:
    """A local SMTP server keeping mail under TICKETQ_HOME (shown at /dev/mail), unless
    SMTP_URL points somewhere already."""
    if settings.smtp_url:
        return {}
    from core.embedded import free_port
    from mail.mailbox import mailbox_folder

    smtp_port = free_port()
    children.append(_start(
        [sys.executable, "-m", "mail.dev_smtp", "--folder", str(mailbox_folder(settings.home)),
         "--host", "127.0.0.1", "--port", str(smtp_port)],
        dict(os.environ), settings.home / "logs" / "dev_smtp.log"))
    return {"SMTP_URL": f"smtp://127.0.0.1:{smtp_port}"}


def _demo_payments(
    settings: Settings, env: dict[str, str], port: int, children: list[subprocess.Popen[bytes]]
) -> dict[str, str]:
    """Offline payments for the demo: a localstripe process, unless Stripe is configured."""
    if settings.stripe_api_key:  # real (or explicitly configured) Stripe
        return {}
    try:
        from purchase.demo_stripe import start_demo_stripe
    except ModuleNotFoundError:
        return {}
    stripe_env: dict[str, str] = start_demo_stripe(settings, port, children)
    return stripe_env

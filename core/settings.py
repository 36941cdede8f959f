"""Settings: every knob TicketQ reads from the environment, in one place.

docs/configuration.md documents each variable; a test checks that the two and
docker-compose.yml agree, so add a row there whenever a field is added here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# The secret used when none is configured. Fine for `make demo` and tests;
# production refuses to start with it (see `Settings.check_production`).
DEMO_SECRET_KEY = "ticketq-demo-secret-do-not-use-in-production"


class SettingsError(Exception):
    """A setting is missing or unsafe for the environment it runs in."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError([f"{name} must be a whole number, got {raw!r}"]) from exc


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    home: Path = field(default_factory=lambda: Path(".ticketq").resolve())
    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = None
    redis_cluster: bool = False
    database_url: str | None = None
    secret_key: str = DEMO_SECRET_KEY
    session_cookie_secure: bool = False
    token_ttl_seconds: int = 7 * 24 * 3600
    max_body_bytes: int = 64 * 1024
    queue_grace_seconds: int = 60
    queue_ticket_ttl_seconds: int = 24 * 3600
    admission_tick_ms: int = 500
    lease_ttl_ms: int = 3000
    hold_seconds: int = 600
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None
    stripe_webhook_secret: str | None = None
    ticket_key_dir: Path | None = None
    public_url: str | None = None
    scanner_code_period_s: int = 15
    scanner_rate_per_minute: int = 300
    lottery_settle_concurrency: int = 8
    lottery_claim_seconds: int = 60

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        home = Path(env.get("TICKETQ_HOME") or ".ticketq").resolve()
        key_dir = env.get("TICKETQ_TICKET_KEY_DIR")
        return cls(
            env=env.get("TICKETQ_ENV", "development"),
            home=home,
            host=env.get("HOST", "127.0.0.1"),
            port=_int(env, "PORT", 8000),
            redis_url=env.get("REDIS_URL") or None,
            redis_cluster=_bool(env, "REDIS_CLUSTER", False),
            database_url=env.get("DATABASE_URL") or None,
            secret_key=env.get("TICKETQ_SECRET_KEY") or DEMO_SECRET_KEY,
            session_cookie_secure=_bool(env, "TICKETQ_SECURE_COOKIES", False),
            token_ttl_seconds=_int(env, "TICKETQ_TOKEN_TTL_SECONDS", 7 * 24 * 3600),
            max_body_bytes=_int(env, "TICKETQ_MAX_BODY_BYTES", 64 * 1024),
            queue_grace_seconds=_int(env, "TICKETQ_QUEUE_GRACE_SECONDS", 60),
            queue_ticket_ttl_seconds=_int(env, "TICKETQ_QUEUE_TICKET_TTL_SECONDS", 24 * 3600),
            admission_tick_ms=_int(env, "TICKETQ_ADMISSION_TICK_MS", 500),
            lease_ttl_ms=_int(env, "TICKETQ_LEASE_TTL_MS", 3000),
            hold_seconds=_int(env, "TICKETQ_HOLD_SECONDS", 600),
            stripe_api_key=env.get("STRIPE_API_KEY") or None,
            stripe_api_base=env.get("STRIPE_API_BASE") or None,
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
            ticket_key_dir=Path(key_dir).resolve() if key_dir else None,
            public_url=env.get("TICKETQ_PUBLIC_URL") or None,
            scanner_code_period_s=_int(env, "TICKETQ_SCANNER_CODE_PERIOD_S", 15),
            scanner_rate_per_minute=_int(env, "TICKETQ_SCANNER_RATE_PER_MINUTE", 300),
            lottery_settle_concurrency=_int(env, "TICKETQ_LOTTERY_SETTLE_CONCURRENCY", 8),
            lottery_claim_seconds=_int(env, "TICKETQ_LOTTERY_CLAIM_SECONDS", 60),
        )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def keys_dir(self) -> Path:
        """Where Ed25519 ticket-signing keys live (`ticketq keys`)."""
        return self.ticket_key_dir or (self.home / "keys")

    def check_production(self) -> None:
        """Refuse to run production on demo secrets or missing keys and servers."""
        if not self.is_production:
            return
        problems: list[str] = []
        if self.secret_key == DEMO_SECRET_KEY:
            problems.append(
                "TICKETQ_SECRET_KEY is the demo secret; generate one with `ticketq keys`"
            )
        elif len(self.secret_key) < 32:
            problems.append("TICKETQ_SECRET_KEY must be at least 32 characters")
        if not self.redis_url:
            problems.append("REDIS_URL must be set (embedded Redis is for development only)")
        if not self.database_url:
            problems.append("DATABASE_URL must be set (embedded Postgres is for development only)")
        if not self.stripe_api_key:
            problems.append("STRIPE_API_KEY must be set")
        if not self.stripe_webhook_secret:
            problems.append("STRIPE_WEBHOOK_SECRET must be set")
        if not (self.keys_dir / "ticket_signing.key").exists():
            problems.append(f"no ticket signing key in {self.keys_dir}; run `ticketq keys`")
        if problems:
            raise SettingsError(problems)

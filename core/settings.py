"""Settings: every knob TicketQ reads from the environment, in one place.

Each setting is declared once below, with its type, default, allowed range and
the environment variable it is read from (pydantic-settings does the reading).
A value that does not parse or is out of range refuses the process at start with
a `SettingsError` naming the variable; nothing falls back to a default silently.
docs/configuration.md documents each variable and the rules; a test checks that
it, this class and docker-compose.yml agree, so add a row there with every field.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# The secret used when none is configured. Fine for `make demo` and tests;
# production refuses to start with it (see `Settings.check_production`).
DEMO_SECRET_KEY = "ticketq-demo-secret-do-not-use-in-production"

# Variables whose values never appear in an error message or repr (both end up in logs).
# SMTP_URL may carry a password (smtp://user:password@host).
SECRET_VARIABLES = frozenset({
    "TICKETQ_SECRET_KEY", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "SMTP_URL",
    "TICKETQ_OIDC_GOOGLE_CLIENT_SECRET",
})

_TRUE_WORDS = frozenset({"true", "1", "yes"})
_FALSE_WORDS = frozenset({"false", "0", "no"})


class SettingsError(Exception):
    """A setting is missing, malformed or unsafe for the environment it runs in."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _flag(value: object) -> object:
    # Stricter than pydantic's own bool: a typo such as `ture` must refuse to start,
    # not quietly read as one side or the other.
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise ValueError("must be one of true/false, 1/0, yes/no (any case)")


def _url_of(*schemes: str) -> AfterValidator:
    def check(url: str) -> str:
        if not url.startswith(tuple(f"{scheme}://" for scheme in schemes)):
            raise ValueError(f"must start with {' or '.join(f'{s}://' for s in schemes)}")
        return url

    return AfterValidator(check)


Flag = Annotated[bool, BeforeValidator(_flag)]
Folder = Annotated[Path, AfterValidator(lambda path: path.resolve())]
RedisUrl = Annotated[str, _url_of("redis", "rediss", "unix")]
PostgresUrl = Annotated[str, _url_of("postgresql", "postgres", "postgresql+psycopg")]
HttpUrl = Annotated[str, _url_of("http", "https")]
SmtpUrl = Annotated[str, _url_of("smtp", "smtps")]


def _mail_address(value: str) -> str:
    # "Name <user@host>" or "user@host"; the sender derives Message-IDs from the host.
    _, address = parseaddr(value)
    local, at, host = address.rpartition("@")
    if not (at and local and host) or "@" in local or any(c.isspace() for c in address):
        raise ValueError("must be an address such as 'TicketQ <tickets@example.com>'")
    return value


MailAddress = Annotated[str, AfterValidator(_mail_address)]


def _networks(text: str) -> str:
    # Parsed here so a typo refuses to start; users parse it again (ipaddress is cheap).
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise ValueError(f"{part!r} is not an address or CIDR network") from None
    return text


Networks = Annotated[str, AfterValidator(_networks)]


def secret_key_weakness(key: str) -> str | None:
    """Why `key` is too weak to sign production credentials, or None when it is fine.

    Length alone is not enough: 'a' * 32 or '0123456789' * 4 pass a length check
    yet are guessed at once. So a key also needs at least 10 distinct characters
    and must not be a shorter block repeated. `ticketq keys` (64 URL-safe random
    characters) passes with a wide margin.
    """
    if key == DEMO_SECRET_KEY:
        return "is the demo secret"
    if len(key) < 32:
        return "must be at least 32 characters"
    if len(set(key)) < 10:
        return "must contain at least 10 distinct characters"
    if _smallest_period(key) <= len(key) // 2:
        return "must not be a short block repeated"
    return None


def _smallest_period(text: str) -> int:
    """Length of the shortest block whose repetition spells `text` (a cut-off tail allowed)."""
    # Knuth-Morris-Pratt failure function: the longest proper prefix that is also a suffix.
    border = [0] * len(text)
    for index in range(1, len(text)):
        length = border[index - 1]
        while length and text[index] != text[length]:
            length = border[length - 1]
        border[index] = length + 1 if text[index] == text[length] else 0
    return len(text) - (border[-1] if text else 0)


def _env(variable: str, default: Any = None, **constraints: Any) -> Any:
    """A field read from the environment variable `variable`."""
    return Field(default, validation_alias=variable, **constraints)


class Settings(BaseSettings):
    """TicketQ's configuration, frozen once read; copy with `replace(...)`."""

    model_config = SettingsConfigDict(
        frozen=True,
        case_sensitive=True,  # the documented names exactly: `port` is not PORT
        env_ignore_empty=True,  # VAR= means unset, as it did before
        extra="forbid",  # a misspelt keyword to Settings(...) / replace(...) is an error
    )

    env: Literal["development", "test", "production"] = _env("TICKETQ_ENV", "development")
    # text: one readable line per record (a terminal); json: one object per line (a collector).
    log_format: Literal["text", "json"] = _env("TICKETQ_LOG_FORMAT", "text")
    home: Folder = Field(
        default_factory=lambda: Path(".ticketq").resolve(), validation_alias="TICKETQ_HOME"
    )
    host: str = _env("HOST", "127.0.0.1", min_length=1)
    port: int = _env("PORT", 8000, ge=1, le=65535)
    redis_url: RedisUrl | None = _env("REDIS_URL")
    redis_cluster: Flag = _env("REDIS_CLUSTER", False)
    database_url: PostgresUrl | None = _env("DATABASE_URL")
    secret_key: str = _env("TICKETQ_SECRET_KEY", DEMO_SECRET_KEY, repr=False)
    # Secret keys being rotated out, comma-separated: data encrypted at rest under one of
    # them (TOTP secrets) still opens, and is re-encrypted under the current key when used.
    secret_key_previous: str = _env("TICKETQ_SECRET_KEY_PREVIOUS", "", repr=False)
    session_cookie_secure: Flag = _env("TICKETQ_SECURE_COOKIES", False)
    token_ttl_seconds: int = _env(
        "TICKETQ_TOKEN_TTL_SECONDS", 7 * 24 * 3600, ge=60, le=366 * 24 * 3600
    )
    max_body_bytes: int = _env("TICKETQ_MAX_BODY_BYTES", 64 * 1024, ge=1024, le=64 * 1024 * 1024)
    queue_grace_seconds: int = _env("TICKETQ_QUEUE_GRACE_SECONDS", 60, ge=1, le=24 * 3600)
    queue_ticket_ttl_seconds: int = _env(
        "TICKETQ_QUEUE_TICKET_TTL_SECONDS", 24 * 3600, ge=60, le=30 * 24 * 3600
    )
    admission_tick_ms: int = _env("TICKETQ_ADMISSION_TICK_MS", 500, ge=10, le=60_000)
    lease_ttl_ms: int = _env("TICKETQ_LEASE_TTL_MS", 3000, ge=100, le=600_000)
    hold_seconds: int = _env("TICKETQ_HOLD_SECONDS", 600, ge=60, le=3600)
    stripe_api_key: str | None = _env("STRIPE_API_KEY", repr=False)
    stripe_api_base: HttpUrl | None = _env("STRIPE_API_BASE")
    stripe_webhook_secret: str | None = _env("STRIPE_WEBHOOK_SECRET", repr=False)
    stripe_publishable_key: str | None = _env("STRIPE_PUBLISHABLE_KEY", pattern=r"^pk_\w+$")
    ticket_key_dir: Folder | None = _env("TICKETQ_TICKET_KEY_DIR")
    public_url: HttpUrl | None = _env("TICKETQ_PUBLIC_URL")
    scanner_code_period_s: int = _env("TICKETQ_SCANNER_CODE_PERIOD_S", 15, ge=5, le=300)
    scanner_rate_per_minute: int = _env("TICKETQ_SCANNER_RATE_PER_MINUTE", 300, ge=1, le=100_000)
    scanner_rate_per_account_per_minute: int = _env(
        "TICKETQ_SCANNER_RATE_PER_ACCOUNT_PER_MINUTE", 600, ge=1, le=1_000_000)
    scanner_rate_per_event_per_minute: int = _env(
        "TICKETQ_SCANNER_RATE_PER_EVENT_PER_MINUTE", 10_000, ge=1, le=10_000_000)
    scanner_manual_per_account_per_minute: int = _env(
        "TICKETQ_SCANNER_MANUAL_PER_ACCOUNT_PER_MINUTE", 20, ge=1, le=100_000)
    scanner_manual_per_event_per_minute: int = _env(
        "TICKETQ_SCANNER_MANUAL_PER_EVENT_PER_MINUTE", 200, ge=1, le=1_000_000)
    offline_scan_skew_s: int = _env("TICKETQ_OFFLINE_SCAN_SKEW_S", 300, ge=0, le=86_400)
    lottery_settle_concurrency: int = _env("TICKETQ_LOTTERY_SETTLE_CONCURRENCY", 8, ge=1, le=256)
    lottery_claim_seconds: int = _env("TICKETQ_LOTTERY_CLAIM_SECONDS", 60, ge=1, le=3600)
    smtp_url: SmtpUrl | None = _env("SMTP_URL", repr=False)
    mail_from: MailAddress = _env("TICKETQ_MAIL_FROM", "TicketQ <tickets@ticketq.localhost>")
    mail_claim_seconds: int = _env("TICKETQ_MAIL_CLAIM_SECONDS", 60, ge=2, le=3600)
    # Abuse limits on accounts (accounts/limits.py; docs/security.md, "Accounts and sessions").
    signin_failures_per_account: int = _env(
        "TICKETQ_SIGNIN_FAILURES_PER_ACCOUNT", 5, ge=1, le=1000
    )
    signin_account_window_s: int = _env("TICKETQ_SIGNIN_ACCOUNT_WINDOW_S", 900, ge=1, le=86_400)
    signin_per_ip_per_minute: int = _env("TICKETQ_SIGNIN_PER_IP_PER_MINUTE", 20, ge=1, le=100_000)
    signup_per_ip_per_hour: int = _env("TICKETQ_SIGNUP_PER_IP_PER_HOUR", 20, ge=1, le=100_000)
    signup_per_network_per_hour: int = _env(
        "TICKETQ_SIGNUP_PER_NETWORK_PER_HOUR", 100, ge=1, le=1_000_000
    )
    # Two-factor authentication (accounts/totp.py, accounts/second_factor.py; docs/accounts.md).
    totp_failures_per_account: int = _env("TICKETQ_TOTP_FAILURES_PER_ACCOUNT", 5, ge=1, le=1000)
    totp_failure_window_s: int = _env("TICKETQ_TOTP_FAILURE_WINDOW_S", 900, ge=1, le=86_400)
    totp_challenge_ttl_s: int = _env("TICKETQ_TOTP_CHALLENGE_TTL_S", 300, ge=30, le=3600)
    totp_fresh_s: int = _env("TICKETQ_TOTP_FRESH_S", 900, ge=60, le=86_400)
    # Email verification (accounts/verification.py; docs/security.md, "Email verification").
    email_verify_ttl_seconds: int = _env(
        "TICKETQ_EMAIL_VERIFY_TTL_SECONDS", 48 * 3600, ge=300, le=30 * 24 * 3600
    )
    verify_resends_per_hour: int = _env("TICKETQ_VERIFY_RESENDS_PER_HOUR", 3, ge=1, le=1000)
    # Password reset links (accounts/password_reset.py; docs/accounts.md, "Password reset").
    password_reset_ttl_seconds: int = _env(
        "TICKETQ_PASSWORD_RESET_TTL_SECONDS", 30 * 60, ge=60, le=24 * 3600
    )
    password_reset_per_ip_per_hour: int = _env(
        "TICKETQ_PASSWORD_RESET_PER_IP_PER_HOUR", 20, ge=1, le=100_000
    )
    password_reset_per_address_per_hour: int = _env(
        "TICKETQ_PASSWORD_RESET_PER_ADDRESS_PER_HOUR", 3, ge=1, le=1000
    )
    # Comma-separated CIDRs whose clients skip the per-IP and per-network limits (never the
    # per-account one). Empty by default: behind a proxy without proxy headers every client
    # looks like the proxy, so exempting loopback by default would exempt everyone.
    auth_limit_exempt_networks: Networks = _env("TICKETQ_AUTH_LIMIT_EXEMPT_NETWORKS", "")
    # Whether a venue created by a non-admin waits for a platform admin before it may
    # publish (catalog/approval.py). Unset: `required`, except under TICKETQ_ENV=test,
    # where the suite's many self-made venues sell at once (see venue_approval_required).
    venue_approval: Literal["required", "none"] | None = _env("TICKETQ_VENUE_APPROVAL")
    # Bot guards at join (gateway/join_guard.py; docs/security.md, "Joining a drop"): new
    # places per drop per hour from one address / one network, where a drop sets none of
    # its own; the same exemption as the sign-up limits.
    join_per_ip_per_drop: int = _env("TICKETQ_JOIN_PER_IP_PER_DROP", 10, ge=0, le=1_000_000)
    join_per_network_per_drop: int = _env(
        "TICKETQ_JOIN_PER_NETWORK_PER_DROP", 200, ge=0, le=10_000_000
    )
    # How long a proof-of-work challenge may be solved and used for (and its replay
    # record kept).
    challenge_ttl_seconds: int = _env("TICKETQ_CHALLENGE_TTL_SECONDS", 300, ge=10, le=3600)
    # Sign in with an OpenID Connect provider (accounts/oidc.py; docs/accounts.md). The
    # provider named `google` is configured by its issuer (discovery), client id and secret;
    # any OIDC provider's issuer works there. Unset issuer: the provider is off.
    # Pools and queues in front of a herd (docs/scaling.md, "Why 5,000 fans collapsed"):
    # per process, so a gateway's share of Postgres and Redis is sized to its cores, and a
    # request that cannot get a connection soon answers 503 + Retry-After instead of
    # hanging until the fan's client gives up. 0 pool size: two per core of the machine.
    db_pool_size: int = _env("TICKETQ_DB_POOL_SIZE", 0, ge=0, le=1000)
    db_max_overflow: int = _env("TICKETQ_DB_MAX_OVERFLOW", 20, ge=0, le=1000)
    db_pool_timeout_s: float = _env("TICKETQ_DB_POOL_TIMEOUT_S", 30.0, gt=0, le=300)
    redis_max_connections: int = _env("TICKETQ_REDIS_MAX_CONNECTIONS", 200, ge=1, le=100_000)
    redis_pool_timeout_s: float = _env("TICKETQ_REDIS_POOL_TIMEOUT_S", 10.0, gt=0, le=300)
    # Prometheus /metrics of `ticketq worker` (admission ticks, job restarts), on HOST;
    # 0: off. The gateway serves its own on its port.
    worker_metrics_port: int = _env("TICKETQ_WORKER_METRICS_PORT", 0, ge=0, le=65535)
    # The listen() backlog of `ticketq serve`: connections the kernel queues while the
    # process is busy (uvicorn's 2048 is overrun by a spike of fans arriving at once; the
    # kernel caps it at net.core.somaxconn).
    backlog: int = _env("TICKETQ_BACKLOG", 8192, ge=64, le=1_000_000)
    # Peers whose X-Forwarded-For `ticketq serve` believes (uvicorn's own variable name):
    # the balancer in front. The per-address limits count the address it yields.
    forwarded_allow_ips: str = _env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1", min_length=1,
                                    max_length=2000)
    oidc_google_issuer: HttpUrl | None = _env("TICKETQ_OIDC_GOOGLE_ISSUER")
    oidc_google_client_id: str | None = _env("TICKETQ_OIDC_GOOGLE_CLIENT_ID", max_length=500)
    oidc_google_client_secret: str | None = _env(
        "TICKETQ_OIDC_GOOGLE_CLIENT_SECRET", repr=False, max_length=500)

    def __init__(self, **values: Any) -> None:
        """Keyword arguments by variable name (`Settings(PORT=8001)`); the rest from os.environ."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_problems(exc)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment only: no .env file or secrets folder read behind the operator's back.
        return init_settings, env_settings

    @model_validator(mode="after")
    def _lease_outlives_ticks(self) -> Self:
        # The worker renews its lease once per tick; a lease shorter than two ticks
        # lapses between renewals and drops flap between workers.
        if self.lease_ttl_ms < 2 * self.admission_tick_ms:
            raise ValueError(
                "TICKETQ_LEASE_TTL_MS must be at least twice TICKETQ_ADMISSION_TICK_MS, "
                f"got {self.lease_ttl_ms} and {self.admission_tick_ms}"
            )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the process environment, or only `environ` when given (tests, tools)."""
        if environ is None:
            return cls()
        # Every field is passed, so pydantic-settings' os.environ source has nothing
        # left to fill: an explicit mapping is the whole environment.
        values: dict[str, Any] = {}
        for field in cls.model_fields.values():
            variable = str(field.validation_alias)
            given = environ.get(variable)
            values[variable] = given if given else field.get_default(call_default_factory=True)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A validated copy with some fields changed, by field name (`redis_url=...`)."""
        unknown = set(changes) - set(type(self).model_fields)
        if unknown:
            raise SettingsError([f"no setting named {name!r}" for name in sorted(unknown)])
        values = {**self.model_dump(), **changes}
        return type(self)(**{variable_of(name): value for name, value in values.items()})

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def venue_approval_required(self) -> bool:
        if self.venue_approval is not None:
            return self.venue_approval == "required"
        return self.env != "test"

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The current secret key first, then those being rotated out."""
        previous = (key.strip() for key in self.secret_key_previous.split(","))
        return (self.secret_key, *(key for key in previous if key))

    @property
    def keys_dir(self) -> Path:
        """Where Ed25519 ticket-signing keys live (`ticketq keys`)."""
        return self.ticket_key_dir or (self.home / "keys")

    def check_production(self) -> None:
        """Refuse to run production on weak secrets, plain cookies or missing keys and servers.

        Called by `ticketq serve`, `ticketq worker` and the ASGI entry point rather than
        at construction, so `ticketq keys` still runs in a production environment that
        has no keys yet.
        """
        if not self.is_production:
            return
        problems: list[str] = []
        weakness = secret_key_weakness(self.secret_key)
        if weakness:
            problems.append(
                f"TICKETQ_SECRET_KEY {weakness}; generate one with `ticketq keys`"
            )
        if not self.session_cookie_secure:
            problems.append("TICKETQ_SECURE_COOKIES must be on in production (serve behind HTTPS)")
        if not self.redis_url:
            problems.append("REDIS_URL must be set (embedded Redis is for development only)")
        if not self.database_url:
            problems.append("DATABASE_URL must be set (embedded Postgres is for development only)")
        if not self.stripe_api_key:
            problems.append("STRIPE_API_KEY must be set")
        if not self.stripe_webhook_secret:
            problems.append("STRIPE_WEBHOOK_SECRET must be set")
        if self.oidc_google_issuer and not self.oidc_google_issuer.startswith("https://"):
            # The ID token's keys come from the issuer's discovery: over plain HTTP anyone on
            # the path could hand us their own keys.
            problems.append("TICKETQ_OIDC_GOOGLE_ISSUER must be an https:// URL in production")
        if not (self.keys_dir / "ticket_signing.key").exists():
            problems.append(f"no ticket signing key in {self.keys_dir}; run `ticketq keys`")
        if problems:
            raise SettingsError(problems)


def variable_of(field_name: str) -> str:
    """The environment variable a Settings field is read from (`port` -> `PORT`)."""
    return str(Settings.model_fields[field_name].validation_alias)


def _problems(error: ValidationError) -> list[str]:
    """One line per bad value, naming the variable (and the value, unless it is secret)."""
    fields = Settings.model_fields
    problems = []
    for detail in error.errors():
        message = detail["msg"].removeprefix("Value error, ")
        if not detail["loc"]:  # a rule across several fields; its message names them
            problems.append(message)
            continue
        name = str(detail["loc"][0])
        variable = variable_of(name) if name in fields else name
        if detail["type"] == "extra_forbidden":
            problems.append(f"{variable} is not a setting")
            continue
        if message.startswith("Input should be "):
            message = "must be " + message.removeprefix("Input should be ")
        line = f"{variable} {message}"
        if variable not in SECRET_VARIABLES:
            line += f", got {detail['input']!r}"
        problems.append(line)
    return problems

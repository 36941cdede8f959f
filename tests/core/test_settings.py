"""core/settings.py: typed, validated, strict; and it, docs/configuration.md and compose agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from core.settings import (
    DEMO_SECRET_KEY,
    Settings,
    SettingsError,
    secret_key_weakness,
    variable_of,
)

ROOT = Path(__file__).resolve().parents[2]
# 64 URL-safe characters, as `ticketq keys` makes them.
STRONG_KEY = "q3V9xK2mZ7pL0wR8tY4uN6bC1dF5gH_jA-sE9iO3kM7nB2vX4zQ8lP0rT6yU1wE5"


def documented_variables() -> set[str]:
    table = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.MULTILINE))


def variables_read_by_settings() -> set[str]:
    """The env var names declared in core/settings.py, as pydantic-settings reads them."""
    names = {name: field.validation_alias for name, field in Settings.model_fields.items()}
    unnamed = [name for name, alias in names.items() if not isinstance(alias, str)]
    assert not unnamed, f"fields without an environment variable: {unnamed}"
    return {str(alias) for alias in names.values()}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def refused(environ: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as error:
        Settings.from_env(environ)
    return error.value.problems


def production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    from core.keys import generate_keys

    generate_keys(tmp_path / "keys")
    return {
        "TICKETQ_ENV": "production",
        "TICKETQ_HOME": str(tmp_path),
        "TICKETQ_SECRET_KEY": STRONG_KEY,
        "TICKETQ_SECURE_COOKIES": "1",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "DATABASE_URL": "postgresql://u@127.0.0.1:1/db",
        "STRIPE_API_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
        **overrides,
    }


def test_every_setting_is_documented_and_every_documented_variable_is_read() -> None:
    read = variables_read_by_settings()
    assert len(read) == len(Settings.model_fields), "two fields share one variable"
    assert read == documented_variables()
    # The declarations in the source carry the names (what a reader of settings.py sees).
    source = (ROOT / "core" / "settings.py").read_text()
    declared = set(re.findall(r"""(?:_env\(|validation_alias=)\s*"([A-Z_]+)\"""", source))
    assert declared == read


def test_compose_uses_only_documented_variables() -> None:
    documented = documented_variables()
    services = compose()["services"]
    for name in ("gateway", "worker", "migrate"):
        environment = services[name]["environment"]
        assert set(environment) <= documented, (name, set(environment) - documented)
        assert environment["REDIS_URL"].startswith("redis://")
        assert environment["DATABASE_URL"].startswith("postgresql://")
        assert environment["TICKETQ_ENV"] == "production"
        assert environment["TICKETQ_SECURE_COOKIES"] == "1"


def test_compose_describes_the_production_shape() -> None:
    services = compose()["services"]
    assert services["gateway"]["deploy"]["replicas"] == 2
    assert "--appendonly" in services["redis"]["command"]
    assert (
        services["redis"]["command"][services["redis"]["command"].index("--appendfsync") + 1]
        == "everysec"
    )
    assert services["worker"]["command"] == ["ticketq", "worker"]
    assert "postgres" in services


def test_defaults_are_unchanged() -> None:
    settings = Settings.from_env({})
    assert settings.model_dump() == {
        "env": "development",
        "log_format": "text",
        "home": Path(".ticketq").resolve(),
        "host": "127.0.0.1",
        "port": 8000,
        "redis_url": None,
        "redis_cluster": False,
        "database_url": None,
        "secret_key": DEMO_SECRET_KEY,
        "secret_key_previous": "",
        "session_cookie_secure": False,
        "token_ttl_seconds": 7 * 24 * 3600,
        "max_body_bytes": 64 * 1024,
        "queue_grace_seconds": 60,
        "queue_ticket_ttl_seconds": 24 * 3600,
        "admission_tick_ms": 500,
        "lease_ttl_ms": 3000,
        "hold_seconds": 600,
        "stripe_api_key": None,
        "stripe_api_base": None,
        "stripe_webhook_secret": None,
        "stripe_publishable_key": None,
        "ticket_key_dir": None,
        "public_url": None,
        "scanner_code_period_s": 15,
        "scanner_rate_per_minute": 300,
        "scanner_rate_per_account_per_minute": 600,
        "scanner_rate_per_event_per_minute": 10_000,
        "scanner_manual_per_account_per_minute": 20,
        "scanner_manual_per_event_per_minute": 200,
        "offline_scan_skew_s": 300,
        "lottery_settle_concurrency": 8,
        "lottery_claim_seconds": 60,
        "smtp_url": None,
        "mail_from": "TicketQ <tickets@ticketq.localhost>",
        "mail_claim_seconds": 60,
        "signin_failures_per_account": 5,
        "signin_account_window_s": 900,
        "signin_per_ip_per_minute": 20,
        "signup_per_ip_per_hour": 20,
        "email_verify_ttl_seconds": 48 * 3600,
        "verify_resends_per_hour": 3,
        "totp_failures_per_account": 5,
        "totp_failure_window_s": 900,
        "totp_challenge_ttl_s": 300,
        "totp_fresh_s": 900,
        "password_reset_ttl_seconds": 30 * 60,
        "password_reset_per_ip_per_hour": 20,
        "password_reset_per_address_per_hour": 3,
        "signup_per_network_per_hour": 100,
        "auth_limit_exempt_networks": "",
        "venue_approval": None,
        "join_per_ip_per_drop": 10,
        "join_per_network_per_drop": 200,
        "challenge_ttl_seconds": 300,
        "db_pool_size": 0,
        "db_max_overflow": 20,
        "db_pool_timeout_s": 30.0,
        "redis_max_connections": 200,
        "redis_pool_timeout_s": 10.0,
        "worker_metrics_port": 0,
        "backlog": 8192,
        "forwarded_allow_ips": "127.0.0.1,::1",
        "oidc_google_issuer": None,
        "oidc_google_client_id": None,
        "oidc_google_client_secret": None,
    }
    assert not settings.is_production
    assert settings.venue_approval_required
    assert settings.keys_dir == Path(".ticketq").resolve() / "keys"


def test_venue_approval_is_required_unless_turned_off_or_under_test() -> None:
    assert Settings.from_env({"TICKETQ_ENV": "production"}).venue_approval_required
    assert not Settings.from_env({"TICKETQ_ENV": "test"}).venue_approval_required
    explicit = Settings.from_env({"TICKETQ_ENV": "test", "TICKETQ_VENUE_APPROVAL": "required"})
    assert explicit.venue_approval_required
    assert not explicit.replace(venue_approval="none").venue_approval_required
    assert any("TICKETQ_VENUE_APPROVAL" in problem
               for problem in refused({"TICKETQ_VENUE_APPROVAL": "maybe"}))


def test_values_are_read_and_typed(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "TICKETQ_ENV": "test",
            "TICKETQ_HOME": str(tmp_path),
            "PORT": "8001",
            "REDIS_CLUSTER": "YES",
            "TICKETQ_TICKET_KEY_DIR": str(tmp_path / "k"),
            "TICKETQ_PUBLIC_URL": "https://tickets.example.com",
            "HOST": "",  # empty means unset
        }
    )
    assert (settings.env, settings.port, settings.redis_cluster) == ("test", 8001, True)
    assert settings.host == "127.0.0.1"
    assert settings.keys_dir == tmp_path / "k"
    assert settings.public_url == "https://tickets.example.com"


def test_an_explicit_mapping_is_the_whole_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("port", "9")  # field names are not variable names
    assert Settings.from_env({}).port == 8000
    assert Settings.from_env().port == 8123
    assert Settings().port == 8123


@pytest.mark.parametrize("value", ["Production", "PRODUCTION", " production", "prod", "staging"])
def test_an_unknown_environment_is_refused_naming_the_variable(value: str) -> None:
    (problem,) = refused({"TICKETQ_ENV": value})
    assert problem.startswith("TICKETQ_ENV must be ")
    for choice in ("development", "test", "production"):
        assert choice in problem
    assert repr(value) in problem


@pytest.mark.parametrize(
    ("word", "meaning"),
    [("true", True), ("TRUE", True), ("1", True), ("Yes", True),
     ("false", False), ("False", False), ("0", False), ("no", False)],
)
def test_booleans_take_six_words_in_any_case(word: str, meaning: bool) -> None:
    settings = Settings.from_env({"TICKETQ_SECURE_COOKIES": word, "REDIS_CLUSTER": word})
    assert settings.session_cookie_secure is meaning
    assert settings.redis_cluster is meaning


@pytest.mark.parametrize("word", ["ture", "on", "off", "2", "y", "enabled"])
def test_anything_else_is_refused_naming_the_variable(word: str) -> None:
    (problem,) = refused({"TICKETQ_SECURE_COOKIES": word})
    assert problem.startswith("TICKETQ_SECURE_COOKIES must be one of true/false, 1/0, yes/no")
    assert repr(word) in problem


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PORT", "0"),
        ("PORT", "65536"),
        ("TICKETQ_MAX_BODY_BYTES", "-1"),
        ("TICKETQ_TOKEN_TTL_SECONDS", "59"),
        ("TICKETQ_HOLD_SECONDS", "3601"),
        ("TICKETQ_SCANNER_CODE_PERIOD_S", "1"),
        ("TICKETQ_LOTTERY_SETTLE_CONCURRENCY", "0"),
        ("TICKETQ_ADMISSION_TICK_MS", "5"),
    ],
)
def test_out_of_range_numbers_are_refused_naming_the_variable(variable: str, value: str) -> None:
    (problem,) = refused({variable: value})
    assert problem.startswith(f"{variable} must be greater than or equal to") or problem.startswith(
        f"{variable} must be less than or equal to"
    )


def test_bad_numbers_in_the_environment_are_named() -> None:
    (problem,) = refused({"PORT": "eighty"})
    assert problem.startswith("PORT must be a valid integer") and "'eighty'" in problem


def test_every_bad_value_is_reported_at_once() -> None:
    problems = refused({"PORT": "x", "TICKETQ_ENV": "Production", "REDIS_CLUSTER": "ture"})
    assert sorted(problem.split()[0] for problem in problems) == [
        "PORT", "REDIS_CLUSTER", "TICKETQ_ENV",
    ]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("DATABASE_URL", "mysql://u@h/db"),
        ("TICKETQ_PUBLIC_URL", "tickets.example.com"),
        ("STRIPE_API_BASE", "localhost:12111"),
    ],
)
def test_urls_need_their_scheme(variable: str, value: str) -> None:
    (problem,) = refused({variable: value})
    assert problem.startswith(f"{variable} must start with")


def test_a_lease_must_outlive_two_admission_ticks() -> None:
    (problem,) = refused({"TICKETQ_ADMISSION_TICK_MS": "1000", "TICKETQ_LEASE_TTL_MS": "1500"})
    assert "TICKETQ_LEASE_TTL_MS" in problem and "TICKETQ_ADMISSION_TICK_MS" in problem
    Settings.from_env({"TICKETQ_ADMISSION_TICK_MS": "200", "TICKETQ_LEASE_TTL_MS": "1500"})


def test_secrets_stay_out_of_messages_and_repr() -> None:
    (problem,) = refused({"TICKETQ_SECRET_KEY": STRONG_KEY, "TICKETQ_LOTTERY_CLAIM_SECONDS": "0"})
    assert STRONG_KEY not in problem
    settings = Settings.from_env({"TICKETQ_SECRET_KEY": STRONG_KEY, "STRIPE_API_KEY": "sk_live_y"})
    assert STRONG_KEY not in repr(settings) and "sk_live_y" not in repr(settings)


def test_copies_are_validated_and_the_original_is_frozen(tmp_path: Path) -> None:
    settings = Settings.from_env({})
    copy = settings.replace(redis_url="redis://127.0.0.1:6379/0", home=tmp_path)
    assert (copy.redis_url, copy.home, copy.port) == ("redis://127.0.0.1:6379/0", tmp_path, 8000)
    assert settings.redis_url is None
    with pytest.raises(SettingsError, match=r"^PORT must be greater"):
        settings.replace(port=0)
    with pytest.raises(SettingsError, match="no setting named 'prot'"):
        settings.replace(prot=1)
    with pytest.raises(ValidationError, match="frozen"):
        settings.port = 1
    assert variable_of("session_cookie_secure") == "TICKETQ_SECURE_COOKIES"


def test_production_refuses_demo_secret_and_missing_pieces(tmp_path: Path) -> None:
    settings = Settings.from_env({"TICKETQ_ENV": "production", "TICKETQ_HOME": str(tmp_path)})
    with pytest.raises(SettingsError) as refusal:
        settings.check_production()
    text = " ".join(refusal.value.problems)
    for needed in (
        "TICKETQ_SECRET_KEY is the demo secret",
        "TICKETQ_SECURE_COOKIES",
        "REDIS_URL",
        "DATABASE_URL",
        "STRIPE_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "ticket signing key",
    ):
        assert needed in text


def test_production_starts_with_everything_set(tmp_path: Path) -> None:
    settings = Settings.from_env(production(tmp_path))
    settings.check_production()
    assert settings.is_production and settings.secret_key == STRONG_KEY


def test_production_takes_an_oidc_issuer_over_https_only(tmp_path: Path) -> None:
    settings = Settings.from_env(production(tmp_path)).replace(
        oidc_google_issuer="http://127.0.0.1:9000", oidc_google_client_id="id",
        oidc_google_client_secret="oidc-client-s3cret")
    with pytest.raises(SettingsError) as refusal:
        settings.check_production()
    assert refusal.value.problems == [
        "TICKETQ_OIDC_GOOGLE_ISSUER must be an https:// URL in production"]
    settings.replace(oidc_google_issuer="https://accounts.google.com").check_production()
    assert "oidc-client-s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("x" * 40, "at least 10 distinct characters"),
        ("0123456789" * 4, "short block repeated"),
        ("abcdefghijkl" * 3 + "abcd", "short block repeated"),  # the tail may be cut short
        ("Zq8!" * 10, "at least 10 distinct characters"),
        ("q3V9xK2mZ7pL0wR8", "at least 32 characters"),
        (DEMO_SECRET_KEY, "demo secret"),
    ],
)
def test_weak_production_secret_keys_are_refused(tmp_path: Path, key: str, reason: str) -> None:
    settings = Settings.from_env(production(tmp_path, TICKETQ_SECRET_KEY=key))
    with pytest.raises(SettingsError) as refusal:
        settings.check_production()
    (problem,) = refusal.value.problems
    assert problem.startswith("TICKETQ_SECRET_KEY ") and reason in problem
    assert key not in problem


def test_a_key_that_repeats_only_in_part_is_fine() -> None:
    assert secret_key_weakness(STRONG_KEY) is None
    assert secret_key_weakness("abcdefghijklmnopqrstuvwxyz" + "abcdefghijklmn" + "Q") is None


def test_production_needs_secure_cookies(tmp_path: Path) -> None:
    settings = Settings.from_env(production(tmp_path, TICKETQ_SECURE_COOKIES="no"))
    with pytest.raises(SettingsError) as refusal:
        settings.check_production()
    assert [p.split()[0] for p in refusal.value.problems] == ["TICKETQ_SECURE_COOKIES"]


def test_other_environments_skip_the_production_checks() -> None:
    Settings.from_env({"TICKETQ_ENV": "test", "TICKETQ_SECRET_KEY": "short"}).check_production()

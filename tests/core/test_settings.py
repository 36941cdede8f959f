"""docs/configuration.md, core/settings.py and docker-compose.yml agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from core.settings import DEMO_SECRET_KEY, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]


def documented_variables() -> set[str]:
    table = (ROOT / "docs" / "configuration.md").read_text()
    return set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.MULTILINE))


def variables_read_by_settings() -> set[str]:
    source = (ROOT / "core" / "settings.py").read_text()
    return set(re.findall(r"""(?:env\.get\(|_int\(env, |_bool\(env, )"([A-Z_]+)\"""", source))


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_setting_is_documented_and_every_documented_variable_is_read() -> None:
    read = variables_read_by_settings()
    assert read, "found no variables in settings.py: the pattern is stale"
    assert read == documented_variables()


def test_compose_uses_only_documented_variables() -> None:
    documented = documented_variables()
    services = compose()["services"]
    for name in ("gateway", "worker", "migrate"):
        environment = services[name]["environment"]
        assert set(environment) <= documented, (name, set(environment) - documented)
        assert environment["REDIS_URL"].startswith("redis://")
        assert environment["DATABASE_URL"].startswith("postgresql://")
        assert environment["TICKETQ_ENV"] == "production"


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


def test_production_refuses_demo_secret_and_missing_pieces(tmp_path: Path) -> None:
    settings = Settings.from_env({"TICKETQ_ENV": "production", "TICKETQ_HOME": str(tmp_path)})
    with pytest.raises(SettingsError) as refused:
        settings.check_production()
    text = " ".join(refused.value.problems)
    for needed in (
        "TICKETQ_SECRET_KEY",
        "REDIS_URL",
        "DATABASE_URL",
        "STRIPE_API_KEY",
        "ticket signing key",
    ):
        assert needed in text


def test_production_starts_with_everything_set(tmp_path: Path) -> None:
    from core.keys import generate_keys

    generate_keys(tmp_path / "keys")
    settings = Settings.from_env(
        {
            "TICKETQ_ENV": "production",
            "TICKETQ_HOME": str(tmp_path),
            "TICKETQ_SECRET_KEY": "x" * 40,
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "DATABASE_URL": "postgresql://u@127.0.0.1:1/db",
            "STRIPE_API_KEY": "sk_live_x",
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
        }
    )
    settings.check_production()
    assert settings.secret_key != DEMO_SECRET_KEY


def test_bad_numbers_in_the_environment_are_named() -> None:
    with pytest.raises(SettingsError, match="PORT"):
        Settings.from_env({"PORT": "eighty"})

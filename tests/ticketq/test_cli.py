"""The `ticketq` command as an operator uses it: services, keys, migrate, production refusal."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import psycopg

from core.db import libpq_url

TICKETQ = str(Path(sys.executable).parent / "ticketq")


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    return subprocess.run(
        [TICKETQ, *args],
        env={**clean, "TICKETQ_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_keys_are_created_private_and_kept(tmp_path: Path) -> None:
    first = run(["keys"], tmp_path)
    assert first.returncode == 0, first.stderr
    key = tmp_path / "keys" / "ticket_signing.key"
    secret = tmp_path / "keys" / "secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(bytes.fromhex(key.read_text())) == 32
    assert len(secret.read_text().strip()) >= 32
    before = key.read_text()
    again = run(["keys"], tmp_path)
    assert "kept" in again.stdout and key.read_text() == before
    run(["keys", "--force"], tmp_path)
    assert key.read_text() != before


def test_production_refuses_to_serve_on_demo_secret(tmp_path: Path) -> None:
    for command in (["serve"], ["worker"]):
        refused = run(command, tmp_path, TICKETQ_ENV="production")
        assert refused.returncode == 2
        assert "TICKETQ_SECRET_KEY" in refused.stderr


def test_bad_values_refuse_to_start_before_anything_binds(tmp_path: Path) -> None:
    # Settings are read before any command runs: no server starts, no port is bound.
    cases = [({"TICKETQ_ENV": "Production"}, "TICKETQ_ENV"),
             ({"TICKETQ_SECURE_COOKIES": "ture"}, "TICKETQ_SECURE_COOKIES"),
             ({"PORT": "70000"}, "PORT")]
    for command in (["serve"], ["worker"]):
        for env, variable in cases:
            refused = run(command, tmp_path, **env)
            assert refused.returncode == 2, refused.stderr
            assert refused.stderr.startswith("ticketq: refusing to start:\n")
            assert f"  - {variable} must be" in refused.stderr
            assert "Uvicorn running" not in refused.stderr and not refused.stdout
    assert not (tmp_path / "redis").exists() and not (tmp_path / "postgres").exists()


def test_embedded_services_start_status_migrate_stop(tmp_path: Path) -> None:
    home = tmp_path / "home"
    try:
        started = run(["services", "start"], home)
        assert started.returncode == 0, started.stderr
        urls = dict(line.split("=", 1) for line in started.stdout.strip().splitlines())
        status = run(["services", "status"], home).stdout
        assert "redis: running" in status and "postgres: running" in status
        again = run(["services", "start"], home)  # a second start reuses the same servers
        assert dict(line.split("=", 1) for line in again.stdout.strip().splitlines()) == urls
        migrated = run(["migrate"], home)
        assert migrated.returncode == 0, migrated.stderr
        with psycopg.connect(libpq_url(urls["DATABASE_URL"])) as conn:
            assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
        seeded = run(["seed-demo"], home)
        assert seeded.returncode == 0, seeded.stderr
        assert '"drop_id"' in seeded.stdout
    finally:
        stopped = run(["services", "stop"], home)
    assert "redis" in stopped.stdout and "postgres" in stopped.stdout
    status = run(["services", "status"], home).stdout
    assert "redis: stopped" in status and "postgres: stopped" in status


def test_part_commands_take_their_own_options(tmp_path: Path) -> None:
    helped = run(["reconcile", "--help"], tmp_path)
    assert helped.returncode == 0 and "drop_ids" in helped.stdout
    # Asking for help starts no servers.
    assert not (tmp_path / "redis").exists() and not (tmp_path / "postgres").exists()
    refused = run(["migrate", "--no-such-flag"], tmp_path)
    assert refused.returncode == 2 and "unrecognized arguments" in refused.stderr

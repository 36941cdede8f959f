"""Apply Alembic migrations from code (used by `ticketq migrate`, `make demo` and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Each part that owns tables keeps its migrations beside its code, as a branch
# from the shared core; `upgrade heads` applies every branch.
PART_MIGRATIONS = [
    MIGRATIONS / "versions",
    *(
        Path(__file__).parent.parent / part / "migrations"
        for part in ("purchase", "lottery", "scanner")
    ),
]


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    locations = [str(path) for path in PART_MIGRATIONS if path.is_dir()]
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, target: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), target)


def downgrade(database_url: str, target: str = "base") -> None:
    command.downgrade(alembic_config(database_url), target)

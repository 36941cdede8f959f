"""Apply Alembic migrations from code (used by `ticketq migrate`, `make demo`, the
load-test stack and the tests).

Each part that owns tables keeps its migrations beside its code, as a branch from the
core's `0001_foundation`; `upgrade heads` applies every branch. The parts are named
here by import, so a renamed part fails at import instead of silently losing its tables.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from alembic import command
from alembic.config import Config

import catalog.models
import lottery.models
import mail.models
import purchase.models
import scanner.models
from core.models import Base

MIGRATIONS = Path(__file__).parent / "migrations"
# The parts whose models register tables on the shared Base (imported for that).
TABLE_OWNERS: tuple[ModuleType, ...] = (
    purchase.models, lottery.models, scanner.models, mail.models, catalog.models,
)
VERSION_LOCATIONS = [
    MIGRATIONS / "versions",
    *(Path(owner.__file__ or "").parent / "migrations" for owner in TABLE_OWNERS),
]
METADATA = Base.metadata


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", " ".join(str(p) for p in VERSION_LOCATIONS))
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, target: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), target)


def downgrade(database_url: str, target: str = "base") -> None:
    command.downgrade(alembic_config(database_url), target)

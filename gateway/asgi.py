"""ASGI entry point for uvicorn: `uvicorn gateway.asgi:app` with REDIS_URL and DATABASE_URL set."""

from __future__ import annotations

from core.settings import Settings
from gateway.app import create_app

settings = Settings.from_env()
settings.check_production()
app = create_app(settings)

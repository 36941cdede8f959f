"""ASGI entry point for uvicorn: `uvicorn gateway.asgi:app` with REDIS_URL and DATABASE_URL set."""

from __future__ import annotations

from gateway.app import create_app
from ticketq.settings import Settings

settings = Settings.from_env()
settings.check_production()
app = create_app(settings)

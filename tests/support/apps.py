"""The gateway in-process for tests: an app with its lifespan running, and a client for it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette

from core.settings import Settings
from gateway.app import create_app


@contextlib.asynccontextmanager
async def running_app(settings: Settings, **options: Any) -> AsyncIterator[Starlette]:
    application = create_app(settings, **options)
    async with application.router.lifespan_context(application):
        yield application


@contextlib.asynccontextmanager
async def api_client(app: Starlette, **options: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", **options
    ) as http:
        yield http

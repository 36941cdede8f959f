"""The gateway's composition root: routes are data, the lifespan opens the connections."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from core.clock import utcnow
from core.db import create_engine, create_sessionmaker
from core.redis_client import close_redis, create_redis
from core.scripts import ScriptRegistry
from core.settings import Settings
from gateway import (
    accounts_api,
    catalog_api,
    dashboard_api,
    lottery_api,
    ops_api,
    pages_api,
    purchase_api,
    queue_api,
    scanner_api,
)
from gateway.errors import exception_handlers
from gateway.middleware import BodyLimit, RequestMetrics
from gateway.vendor_assets import vendor_mount

STATIC = Path(__file__).parent / "static"


# Routes are matched in this order: the herd's hot paths (queue, purchase) come first.
PARTS = (
    queue_api,
    purchase_api,
    ops_api,
    accounts_api,
    catalog_api,
    dashboard_api,
    lottery_api,
    scanner_api,
    pages_api,
)


def all_routes() -> list[BaseRoute]:
    return [
        *(route for part in PARTS for route in part.routes),
        vendor_mount(),  # before /static, which would otherwise answer /static/vendor/*
        Mount("/static", app=StaticFiles(directory=STATIC, check_dir=False), name="static"),
    ]


def create_app(settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> Starlette:
    if not settings.redis_url or not settings.database_url:
        raise ValueError("create_app needs settings with redis_url and database_url")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        redis = create_redis(settings.redis_url or "", cluster=settings.redis_cluster)
        engine = create_engine(settings.database_url or "")
        app.state.redis = redis
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.scripts = ScriptRegistry(redis)
        try:
            # Parts' background tasks stop before the connections they use close.
            async with contextlib.AsyncExitStack() as stack:
                for hook in app.state.lifespan_hooks:
                    await stack.enter_async_context(hook(app))
                yield
        finally:
            await close_redis(redis)
            await engine.dispose()

    routes = all_routes()
    app = Starlette(
        routes=routes,
        middleware=[Middleware(BodyLimit, max_bytes=settings.max_body_bytes)],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    # Each part module may export `lifespan_hooks`: callables taking the app and
    # returning an async context manager (background tasks tied to the app's life).
    app.state.lifespan_hooks = [
        hook for part in PARTS for hook in getattr(part, "lifespan_hooks", [])
    ]
    app.add_middleware(RequestMetrics, router=app.router)
    return app

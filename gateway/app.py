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

from bootstrap.services import open_services
from core.clock import utcnow
from core.settings import Settings
from gateway import (
    account_api,
    account_data_api,
    accounts_api,
    catalog_api,
    catalog_edit_api,
    dashboard_api,
    dev_mail,
    event_image_api,
    lottery_api,
    oidc_api,
    ops_api,
    pages_api,
    password_reset_api,
    purchase_api,
    purchase_exports,
    queue_api,
    scanner_api,
    staff_api,
    ticket_pdf_api,
    totp_api,
    totp_pages,
    verify_email_api,
)
from gateway.csrf import CsrfGuard
from gateway.errors import exception_handlers
from gateway.join_lane import JoinLane
from gateway.middleware import BodyLimit, RequestMetrics
from gateway.request_id import RequestId
from gateway.security_headers import SecurityHeaders
from gateway.vendor_assets import vendor_mount
from payments.stripe_js import stripe_js

STATIC = Path(__file__).parent / "static"


# Routes are matched in this order: the herd's hot paths (queue, purchase) come first.
PARTS = (
    queue_api,
    purchase_api,
    ops_api,
    accounts_api,
    totp_api,
    verify_email_api,
    account_data_api,
    account_api,
    oidc_api,
    password_reset_api,
    catalog_api,
    catalog_edit_api,
    event_image_api,
    staff_api,
    dashboard_api,
    purchase_exports,
    lottery_api,
    scanner_api,
    ticket_pdf_api,
    dev_mail,
    totp_pages,
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
        # The position hub stops before the connections it reads through close.
        async with (
            open_services(settings, clock=clock) as services,
            queue_api.queue_runtime_lifespan(services) as runtime,
        ):
            app.state.services = services
            app.state.queue_runtime = runtime
            yield

    app = Starlette(
        routes=all_routes(),
        # Outermost first: the headers go on every answer, refusals included.
        middleware=[
            Middleware(SecurityHeaders, https_only=settings.session_cookie_secure,
                       stripe=stripe_js(settings)),
            Middleware(
                CsrfGuard,
                secure_cookies=settings.session_cookie_secure,
                max_age_s=settings.token_ttl_seconds,
            ),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.add_middleware(RequestMetrics, router=app.router)
    # Outermost of all: the metrics' and every refusal's log lines carry the id too.
    app.add_middleware(RequestId)
    # The herd's join answered past these layers, doing what they do (gateway.join_lane).
    app.middleware_stack = JoinLane(app, queue_api.JOIN_ROUTE)
    return app

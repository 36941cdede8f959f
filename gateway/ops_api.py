"""Operational endpoints: health, Prometheus metrics, the OpenAPI document."""

from __future__ import annotations

import asyncio
from importlib.metadata import version

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.context import services_of
from gateway.openapi import documented, openapi_spec
from gateway.schemas.ops import Health, OpenApiDocument


async def _check_redis(request: Request) -> str:
    try:
        await asyncio.wait_for(services_of(request).redis.ping(), timeout=2)
    except Exception as exc:  # any failure means "not ok", reported, not raised
        return f"error: {type(exc).__name__}"
    return "ok"


async def _check_postgres(request: Request) -> str:
    try:
        async with services_of(request).engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=2)
    except Exception as exc:  # any failure means "not ok", reported, not raised
        return f"error: {type(exc).__name__}"
    return "ok"


@documented(response=Health, also=[503])
async def healthz(request: Request) -> Response:
    """Checks Redis and Postgres; 200 when both answer, else 503."""
    checks = {"redis": await _check_redis(request), "postgres": await _check_postgres(request)}
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503
    )


@documented(media_type=CONTENT_TYPE_LATEST)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this gateway process."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@documented(response=OpenApiDocument)
async def openapi(request: Request) -> Response:
    """This document."""
    return JSONResponse(openapi_spec(request.app.routes, version=version("ticketq")))


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
]

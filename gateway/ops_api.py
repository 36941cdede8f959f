"""Operational endpoints: health, Prometheus metrics, the OpenAPI document."""

from __future__ import annotations

import asyncio
import time
from importlib.metadata import version

from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.context import services_of
from gateway.openapi import documented, openapi_spec
from gateway.schemas.ops import Health, OpenApiDocument

# Round trips of the health checks (each probe of /healthz): how long this process waits
# for a Redis PING and a Postgres SELECT 1, pool wait included; failures are timed too.
DEPENDENCY_SECONDS = Histogram(
    "ticketq_dependency_check_seconds", "Round trip of a /healthz check", ["dependency"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2),
)


async def _check_redis(request: Request) -> str:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(services_of(request).redis.ping(), timeout=2)
    except Exception as exc:  # any failure means "not ok", reported, not raised
        return f"error: {type(exc).__name__}"
    finally:
        DEPENDENCY_SECONDS.labels("redis").observe(time.perf_counter() - started)
    return "ok"


async def _check_postgres(request: Request) -> str:
    started = time.perf_counter()
    try:
        async with services_of(request).engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=2)
    except Exception as exc:  # any failure means "not ok", reported, not raised
        return f"error: {type(exc).__name__}"
    finally:
        DEPENDENCY_SECONDS.labels("postgres").observe(time.perf_counter() - started)
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

"""The one table from domain error kinds to HTTP, and the app's exception handlers."""

from __future__ import annotations

import logging

from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from core import errors
from gateway.problems import Problem, problem_response
from gateway.templating import templates

log = logging.getLogger("ticketq.gateway")

STATUS_BY_KIND: list[tuple[type[errors.DomainError], int]] = [
    (errors.Invalid, 422),
    (errors.NotAuthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Gone, 410),
    (errors.RateLimited, 429),
    (errors.Busy, 503),
]


def problem_for(exc: errors.DomainError) -> Problem:
    status = next((code for kind, code in STATUS_BY_KIND if isinstance(exc, kind)), 400)
    headers = {}
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    problem = Problem(status, exc.detail, headers=headers, code=type(exc).__name__)
    problem.extra.update({key: value for key, value in exc.fields.items() if value is not None})
    return problem


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc, instance=request.url.path)


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.DomainError)
    return problem_response(problem_for(exc), instance=request.url.path)


def wants_page(request: Request) -> bool:
    """A browser navigating to a page (not the API, which always answers problem+json)."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404 and wants_page(request):
        return templates.TemplateResponse(request, "not_found.html",
                                          {"path": request.url.path}, status_code=404)
    detail = exc.detail if exc.status_code != 404 else f"no route for {request.url.path}"
    return problem_response(
        Problem(exc.status_code, str(detail), headers=dict(exc.headers or {})),
        instance=request.url.path,
    )


async def on_pool_timeout(request: Request, exc: Exception) -> Response:
    """No Postgres or Redis connection within the pool's wait (TICKETQ_DB_POOL_TIMEOUT_S,
    TICKETQ_REDIS_POOL_TIMEOUT_S): the process is at its share of the servers. Fans'
    clients retry on 503 + Retry-After; a long silent wait made them give up instead."""
    if isinstance(exc, RedisConnectionError) and "No connection available" not in str(exc):
        return await on_unexpected(request, exc)  # Redis down is a real error
    log.warning("pool exhausted on %s %s: %s", request.method, request.url.path,
                type(exc).__name__)
    return problem_response(
        Problem(503, "busy; try again in a moment", headers={"Retry-After": "1"},
                code="Busy"),
        instance=request.url.path,
    )


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        Problem(500, "something went wrong on our side; try again", title="Internal error"),
        instance=request.url.path,
    )


exception_handlers = {
    Problem: on_problem,
    errors.DomainError: on_domain_error,
    HTTPException: on_http_exception,
    PoolTimeout: on_pool_timeout,
    RedisConnectionError: on_pool_timeout,
    Exception: on_unexpected,
}

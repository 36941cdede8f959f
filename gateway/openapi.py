"""/openapi.json, built from the route table: each endpoint declares its body and auth."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.routing import BaseRoute, Route, WebSocketRoute

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def documented(
    *, body: type[BaseModel] | None = None, auth: str = "none", status: int = 200
) -> Callable[[Endpoint], Endpoint]:
    """Attach OpenAPI facts to an endpoint; the summary is its docstring's first line."""

    def attach(endpoint: Endpoint) -> Endpoint:
        endpoint.__openapi__ = {"body": body, "auth": auth, "status": status}  # type: ignore[attr-defined]
        return endpoint

    return attach


def _operation(route: Route | WebSocketRoute, method: str) -> dict[str, Any]:
    endpoint = route.endpoint
    facts = getattr(endpoint, "__openapi__", {})
    doc = (endpoint.__doc__ or route.name or "").strip()
    operation: dict[str, Any] = {
        "summary": doc.splitlines()[0] if doc else route.path,
        "operationId": f"{method}_{route.name}",
        "responses": {
            str(facts.get("status", 200)): {"description": "success"},
            "4XX": {
                "description": "problem+json (RFC 9457) with a readable detail",
                "content": {"application/problem+json": {}},
            },
        },
    }
    if len(doc.splitlines()) > 1:
        operation["description"] = "\n".join(doc.splitlines()[1:]).strip()
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in route.param_convertors
    ]
    if params:
        operation["parameters"] = params
    body = facts.get("body")
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body.model_json_schema()}},
        }
    auth = facts.get("auth", "none")
    if auth != "none":
        operation["security"] = [{"bearer": []}, {"session": []}]
        operation["x-ticketq-auth"] = auth
    return operation


def openapi_spec(routes: Sequence[BaseRoute], *, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if isinstance(route, Route) and route.include_in_schema:
            for method in sorted((route.methods or set()) - {"HEAD"}):
                paths.setdefault(route.path, {})[method.lower()] = _operation(route, method.lower())
        elif isinstance(route, WebSocketRoute):
            paths.setdefault(route.path, {})["get"] = {
                **_operation(route, "get"),
                "x-websocket": True,
            }
    return {
        "openapi": "3.1.0",
        "info": {"title": "TicketQ", "version": version},
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "tq_session"},
            }
        },
        "paths": paths,
    }

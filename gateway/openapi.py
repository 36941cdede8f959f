"""/openapi.json, built from the route table: each endpoint declares its body, response and auth.

Path parameters take their schema from the route's convertor (`{drop_id:id}` is a bigint id,
`{hold_id:uuid}` a UUID). Every pydantic model, request or response, is rendered once by
`models_json_schema` into components/schemas, so each `$ref` in the document resolves and
two models that share a class name still get distinct entries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.convertors import (
    Convertor,
    FloatConvertor,
    IntegerConvertor,
    UUIDConvertor,
)
from starlette.routing import BaseRoute, Route, WebSocketRoute

from gateway.path_ids import MAX_ID, IdConvertor
from gateway.schemas.base import Problem

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
JSON = "application/json"
REF_TEMPLATE = "#/components/schemas/{model}"
ModelKey = tuple[type[BaseModel], JsonSchemaMode]
# What models_json_schema answers: each (model, mode) -> {"$ref": "#/components/schemas/..."}.
Refs = dict[tuple[Any, JsonSchemaMode], dict[str, Any]]


@dataclass(frozen=True)
class Facts:
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    auth: str = "none"
    status: int = 200
    also: tuple[int, ...] = ()
    media_type: str = JSON
    body_optional: bool = False


def documented(
    *,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    auth: str = "none",
    status: int = 200,
    also: Sequence[int] = (),
    media_type: str = JSON,
    body_optional: bool = False,
) -> Callable[[Endpoint], Endpoint]:
    """Attach OpenAPI facts to an endpoint; the summary is its docstring's first line.

    `response` is the model of the body sent with `status` (and with each status in
    `also`, e.g. a join's 200 beside its 201); `media_type` names a non-JSON answer
    (a page, the metrics text). For a WebSocket, `response` is the model of its messages.
    `body_optional`: the request may come with no body at all (read_optional_json).
    """
    facts = Facts(body=body, response=response, auth=auth, status=status, also=tuple(also),
                  media_type=media_type, body_optional=body_optional)

    def attach(endpoint: Endpoint) -> Endpoint:
        endpoint.__openapi__ = facts  # type: ignore[attr-defined]
        return endpoint

    return attach


def facts_of(route: Route | WebSocketRoute) -> Facts:
    facts = getattr(route.endpoint, "__openapi__", None)
    return facts if isinstance(facts, Facts) else Facts()


def parameter_schema(convertor: Convertor[Any]) -> dict[str, Any]:
    if isinstance(convertor, IdConvertor):
        return {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}
    if isinstance(convertor, UUIDConvertor):
        return {"type": "string", "format": "uuid"}
    if isinstance(convertor, IntegerConvertor):
        return {"type": "integer", "minimum": 0}
    if isinstance(convertor, FloatConvertor):
        return {"type": "number", "minimum": 0}
    return {"type": "string"}


def _json_content(schema: dict[str, Any], media_type: str = JSON) -> dict[str, Any]:
    return {"content": {media_type: {"schema": schema}}}


def _success(facts: Facts, refs: Refs) -> dict[str, Any]:
    response: dict[str, Any] = {"description": "success"}
    if facts.status == 204:
        return response
    if facts.response is not None:
        response.update(_json_content(refs[(facts.response, "serialization")], facts.media_type))
    elif facts.media_type != JSON:
        response.update(_json_content({"type": "string"}, facts.media_type))
    return response


def _problem(facts: Facts, refs: Refs) -> dict[str, Any]:
    """Refusals are problem+json; a page refuses with a page (its 404 is HTML too)."""
    content = _json_content(refs[(Problem, "serialization")], "application/problem+json")
    if facts.media_type == "text/html":
        content["content"]["text/html"] = {"schema": {"type": "string"}}
    return {"description": "problem+json (RFC 9457) with a readable detail", **content}


def _operation(route: Route | WebSocketRoute, method: str,
               refs: Refs) -> dict[str, Any]:
    facts = facts_of(route)
    doc = (route.endpoint.__doc__ or route.name or "").strip()
    success = _success(facts, refs)
    operation: dict[str, Any] = {
        "summary": doc.splitlines()[0] if doc else route.path_format,
        "operationId": f"{method}_{route.name}",
        "responses": {
            **{str(status): success for status in (facts.status, *facts.also)},
            "4XX": _problem(facts, refs),
        },
    }
    if len(doc.splitlines()) > 1:
        operation["description"] = "\n".join(doc.splitlines()[1:]).strip()
    params = [
        {"name": name, "in": "path", "required": True, "schema": parameter_schema(convertor)}
        for name, convertor in route.param_convertors.items()
    ]
    if params:
        operation["parameters"] = params
    if facts.body is not None:
        operation["requestBody"] = {"required": not facts.body_optional,
                                    **_json_content(refs[(facts.body, "validation")])}
    if facts.auth != "none":
        operation["security"] = [{"bearer": []}, {"session": []}]
        operation["x-ticketq-auth"] = facts.auth
    return operation


def _documented_routes(routes: Sequence[BaseRoute]) -> list[Route | WebSocketRoute]:
    return [route for route in routes
            if isinstance(route, WebSocketRoute)
            or (isinstance(route, Route) and route.include_in_schema)]


def _model_keys(routes: Sequence[Route | WebSocketRoute]) -> list[ModelKey]:
    keys: dict[ModelKey, None] = {(Problem, "serialization"): None}
    for route in routes:
        facts = facts_of(route)
        if facts.body is not None:
            keys[(facts.body, "validation")] = None
        if facts.response is not None:
            keys[(facts.response, "serialization")] = None
    return list(keys)


def openapi_spec(routes: Sequence[BaseRoute], *, version: str) -> dict[str, Any]:
    documented_routes = _documented_routes(routes)
    found, definitions = models_json_schema(_model_keys(documented_routes),
                                            ref_template=REF_TEMPLATE)
    refs: Refs = dict(found)
    paths: dict[str, dict[str, Any]] = {}
    for route in documented_routes:
        methods: list[str] | set[str]
        if isinstance(route, WebSocketRoute):
            methods = ["get"]
        else:
            methods = {method.lower() for method in route.methods or set()} - {"head"}
        for method in sorted(methods):
            operation = _operation(route, method, refs)
            if isinstance(route, WebSocketRoute):
                operation = _websocket(operation)
            paths.setdefault(route.path_format, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "TicketQ", "version": version},
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "tq_session"},
            },
        },
        "paths": paths,
    }


def _websocket(operation: dict[str, Any]) -> dict[str, Any]:
    """A WebSocket as the GET that upgrades it (101); its messages' schema rides along."""
    responses = operation["responses"]
    success = next(value for key, value in responses.items() if key.startswith("2"))
    message = success.get("content", {}).get(JSON, {}).get("schema")
    upgraded: dict[str, Any] = {"description": "switching to the WebSocket protocol"}
    return {
        **operation,
        "responses": {"101": upgraded, "4XX": responses["4XX"]},
        "x-websocket": True,
        **({"x-websocket-message": message} if message else {}),
    }


"""Reading JSON request bodies: size cap, media type, syntax, then schema.

Request models forbid unknown fields and coerce nothing (`StrictBody`), so a
wrong type or a typo'd field is a 422 that names the field, and nothing is written.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request

from gateway.context import services_of
from gateway.problems import Problem

Body = TypeVar("Body", bound=BaseModel)


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


def _limit(request: Request) -> int:
    return int(services_of(request).settings.max_body_bytes)


async def read_raw_body(request: Request) -> bytes:
    """The body as bytes, refusing anything over the configured cap (413)."""
    limit = _limit(request)
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem(400, "Content-Length must be a number")
        if int(declared) > limit:
            raise Problem(413, f"request body is larger than {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "(body)", "message": error["msg"]}
        for error in exc.errors(include_url=False)
    ]


async def read_json(request: Request, model: type[Body]) -> Body:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise Problem(415, "send the body as JSON with Content-Type: application/json")
    raw = await read_raw_body(request)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Problem(400, f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise Problem(422, "the body must be a JSON object")
    try:
        # JSON mode: strict types, yet ISO strings still parse into datetimes.
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = _field_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise Problem(
            422, f"the body does not match the schema ({summary})", errors=errors
        ) from exc


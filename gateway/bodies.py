"""Reading JSON request bodies: size cap, media type, nesting depth, syntax, then schema.

Request models forbid unknown fields and coerce nothing (`StrictBody`), so a
wrong type or a typo'd field is a 422 that names the field, and nothing is written.
Three things Postgres or the parser would otherwise turn into a 500 are refused here,
the one place bodies are read: nesting deeper than MAX_DEPTH (400, found by a scan of
the raw bytes, so the recursive json parser never sees it), a NUL in any string (422;
Postgres text cannot hold one) and an integer id outside a bigint (`Id`, 422).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.requests import Request

from gateway.context import services_of
from gateway.path_ids import MAX_ID
from gateway.problems import Problem

Body = TypeVar("Body", bound=BaseModel)

# Every integer id in a body: what a Postgres bigint id can be (as path ids, path_ids.py).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]

# No request model nests more than a few levels; 32 leaves room and stays far below
# the ~1000 frames at which json.loads raises RecursionError.
MAX_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple)):
        return any(_has_nul(item) for item in value)
    return False  # nested StrictBody models check their own fields


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # Postgres refuses U+0000 in text: say so here, naming the field, not with a 500.
        if _has_nul(value):
            raise ValueError("must not contain a NUL character (\\u0000)")
        return value


def nesting_depth(raw: bytes) -> int:
    """The deepest bracket nesting of a JSON text, ignoring brackets inside strings.

    Iterative and linear, so a body of 60,000 `[` costs a regex pass, not a stack.
    """
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0  # too few brackets to be too deep: the common case costs two counts
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub(b'""', raw)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _limit(request: Request) -> int:
    return int(services_of(request).settings.max_body_bytes)


async def read_raw_body(request: Request, *, limit: int | None = None) -> bytes:
    """The body as bytes, refusing anything over the configured cap, or `limit` (413)."""
    limit = _limit(request) if limit is None else limit
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


async def read_optional_json(request: Request, model: type[Body]) -> Body | None:
    """read_json, or None for a request with no body at all (no type, nothing sent)."""
    if "content-type" not in request.headers and request.headers.get(
            "content-length", "0") == "0" and "transfer-encoding" not in request.headers:
        return None
    return await read_json(request, model)


async def read_json(request: Request, model: type[Body]) -> Body:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise Problem(415, "send the body as JSON with Content-Type: application/json")
    raw = await read_raw_body(request)
    if nesting_depth(raw) > MAX_DEPTH:
        raise Problem(400, f"the body nests deeper than {MAX_DEPTH} levels")
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


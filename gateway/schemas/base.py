"""What every response model shares: no undeclared fields, ids typed as the paths type them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from gateway.path_ids import MAX_ID

# Integer ids are Postgres bigints; UUID ids travel as their canonical text.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Uuid = UUID


class ResponseBody(BaseModel):
    """A JSON body exactly as the API sends it: every field declared, none left out."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """RFC 9457 problem details; parts may add fields (`code`, `errors`, `retry_after_s`...)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    code: str | None = None
    errors: list[dict[str, Any]] | None = None

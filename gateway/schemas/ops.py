"""Operational endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from gateway.schemas.base import ResponseBody


class Health(ResponseBody):
    status: Literal["ok", "degraded"]
    redis: str  # "ok" or "error: <exception name>"
    postgres: str


class OpenApiDocument(BaseModel):
    """This document (OpenAPI 3.1); described by the OpenAPI specification itself."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]

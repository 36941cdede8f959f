"""The hot paths' orjson answers are the bytes Starlette's JSONResponse would send for
the bodies those paths build (the join's and the poll's: strings, numbers, booleans,
null, flat and nested dicts), so clients see no difference."""

from __future__ import annotations

import json

import pytest
from starlette.responses import JSONResponse

from gateway.fast_json import FastJSONResponse

BODIES = [
    {"queue_ticket": "7~3.abc.def", "state": "waiting", "position": 1204, "ahead": 1203,
     "estimated_wait_s": 61, "pass": None},
    {"state": "admitted", "pass_expires_ms": 1_796_517_645_020, "admitted": True,
     "drop": {"id": 3, "title": "Café Tacuba — en vivo", "phase": "open"}},
    {"detail": "your place could not be read; try again"},
    {},
]


@pytest.mark.parametrize("body", BODIES)
def test_the_same_bytes_as_starlettes_encoder(body: dict[str, object]) -> None:
    fast = FastJSONResponse(body, status_code=201)
    plain = JSONResponse(body, status_code=201)
    assert fast.body == plain.body
    assert json.loads(fast.body) == body
    assert fast.headers["content-type"] == plain.headers["content-type"]
    assert fast.status_code == 201

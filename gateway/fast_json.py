"""JSON answers of the herd's hot paths (the queue join and poll), rendered by orjson.

Starlette's JSONResponse renders with `json.dumps(..., ensure_ascii=False,
separators=(",", ":"))`; orjson writes the same bytes for the plain bodies these
paths send (str, int, bool, None, flat dicts) at a twentieth of the CPU (~0.1 us
against ~2.4 us, docs/performance.md). Kept to those paths: orjson differs on what
they never send (NaN becomes null instead of an error, datetimes are encoded instead
of refused), and every other answer keeps Starlette's encoder.

orjson rather than msgspec: the bodies are dicts built per request, where msgspec's
gain (typed Structs it encodes without building a dict) would mean a second model of
the same JSON fields beside gateway/schemas; on a dict, both encode in about 0.1 us.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)

"""CSV writing: formula cells defused, RFC 4180 quoting, a streamed body, safe file names."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.csv_export import Cell, attachment_name, csv_response, safe_cell


def test_cells_that_a_spreadsheet_would_run_get_a_quote() -> None:
    for risky in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(risky) == "'" + risky
    assert safe_cell("Ana = Bea") == "Ana = Bea"
    assert safe_cell(-5) == "-5"  # our own numbers stay numbers
    assert safe_cell(None) == ""
    assert safe_cell(datetime(2026, 12, 1, 20, 0, tzinfo=UTC)) == "2026-12-01T20:00:00+00:00"


def test_file_names_keep_only_safe_characters() -> None:
    assert attachment_name("event", 12, "orders") == "event-12-orders.csv"
    assert attachment_name('a"b\r\n', "x/../y") == "a-b-x-y.csv"


async def _batches() -> AsyncIterator[list[Sequence[Cell]]]:
    yield [("1", 'say "hi", then go'), ("2", "line\nbreak")]
    yield [("3", "=cmd")]


async def _endpoint(request: Request) -> Response:
    return csv_response("t.csv", ("id", "text"), _batches())


async def test_batches_stream_as_one_table() -> None:
    app = Starlette(routes=[Route("/t.csv", _endpoint)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        answer = await client.get("/t.csv")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="t.csv"'
    assert answer.headers["cache-control"] == "no-store"
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows == [["id", "text"], ["1", 'say "hi", then go'], ["2", "line\nbreak"],
                    ["3", "'=cmd"]]

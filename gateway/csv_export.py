"""Writing CSV downloads: the one place that turns rows into `text/csv` for a browser.

Two things every export needs, so no export can forget them:
- Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that begins with
  `=`, `+`, `-` or `@` as a formula (and a tab or carriage return can hide one), and a
  fan picks their own name. Such cells get a leading `'`, which spreadsheets show as text.
- Streaming: an event's orders can be tens of thousands of rows, so rows are written as
  the domain yields them, a batch at a time, never collected into one string.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime

from starlette.responses import StreamingResponse

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | datetime | None


def safe_cell(value: Cell) -> str:
    """The cell's text: times as ISO 8601 UTC, None as empty, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int):
        # Numbers are ours (amounts, quantities), never typed by a fan: a negative one
        # stays a number rather than text.
        return str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _lines(rows: Iterable[Sequence[Cell]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


async def _encoded(header: Sequence[str],
                   batches: AsyncIterator[list[Sequence[Cell]]]) -> AsyncIterator[bytes]:
    # A byte-order mark, so spreadsheets that guess the encoding read UTF-8 names right.
    yield ("\ufeff" + _lines([header])).encode()
    async for batch in batches:
        yield _lines(batch).encode()


def attachment_name(*parts: str | int) -> str:
    """A safe file name such as `event-12-orders.csv` (letters, digits, dashes only)."""
    stem = "-".join(re.sub(r"[^A-Za-z0-9]+", "-", str(part)).strip("-") for part in parts)
    return f"{stem or 'export'}.csv"


def csv_response(filename: str, header: Sequence[str],
                 batches: AsyncIterator[list[Sequence[Cell]]]) -> StreamingResponse:
    return StreamingResponse(
        _encoded(header, batches),
        media_type=CSV_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # Personal data: no shared cache keeps a copy.
            "Cache-Control": "no-store",
        },
    )

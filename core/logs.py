"""Structured logs: the request's context on every line, as text or one JSON object a line.

A request's id and what is known of it (the fan, the drop, the hold, the order) live in
one `contextvars` variable, which asyncio copies into every task a request starts, so a
line logged deep in a domain service carries them without being passed them. The gateway
sets the request id (gateway/request_id.py); handlers and services `bind` the rest as they
learn it. Fields are a small fixed list (CONTEXT_FIELDS), so a collector can index them.

`configure("json")` makes every handler of the root and of uvicorn's loggers write JSON
(uvicorn configures its own handlers before it imports the app); `configure("text")`
keeps readable lines and appends the context as `key=value`.
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime
from typing import Literal

CONTEXT_FIELDS = ("request_id", "fan_id", "drop_id", "hold_id", "order_id")
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s%(context)s"

LogValue = str | int
_context: contextvars.ContextVar[dict[str, LogValue]] = contextvars.ContextVar(
    "ticketq_log_context", default={})  # noqa: B039 - never mutated: bind() replaces it


def current() -> dict[str, LogValue]:
    return _context.get()


_KNOWN = frozenset(CONTEXT_FIELDS)


def bind(**fields: LogValue | None) -> None:
    """Add what is now known (e.g. `order_id=...`) to every later line of this context.

    Only the names in CONTEXT_FIELDS: a typo would silently start a new field."""
    unknown = fields.keys() - _KNOWN
    if unknown:
        raise ValueError(f"unknown log fields: {sorted(unknown)}")
    given = {name: value for name, value in fields.items() if value is not None}
    if given:
        _context.set({**_context.get(), **given})


def start(**fields: LogValue | None) -> None:
    """A fresh context for the rest of the current task, never reset: for a connection
    that has a task of its own (uvicorn runs each WebSocket in one, whose copy of the
    context ends with it), where `scope`'s frame would stay alive as long as it."""
    _context.set({})
    bind(**fields)


class scope:
    """A fresh context for one request or job: what it binds is gone when it ends.

    A class rather than @contextmanager: it is entered on every request, and a generator
    based context manager costs a few microseconds more."""

    __slots__ = ("_fields", "_token")

    def __init__(self, **fields: LogValue | None) -> None:
        self._fields = fields

    def __enter__(self) -> None:
        self._token = _context.set({})
        try:
            bind(**self._fields)
        except BaseException:
            _context.reset(self._token)
            raise

    def __exit__(self, *exc_info: object) -> None:
        _context.reset(self._token)


class ContextFilter(logging.Filter):
    """Copies the context onto the record (at the call, in the caller's task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = _context.get()
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name) and name in fields:
                setattr(record, name, fields[name])
        record.context = "".join(f" {name}={getattr(record, name)}" for name in CONTEXT_FIELDS
                                 if getattr(record, name, None) is not None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record; `extra={"order_id": ...}` fields included by name."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _formatter(fmt: Literal["text", "json"]) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure(fmt: Literal["text", "json"], level: int = logging.INFO) -> None:
    """Format every line of the process as `fmt`, with the context; safe to call twice."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    root.setLevel(level)
    loggers = [root, *(logging.getLogger(name) for name in UVICORN_LOGGERS)]
    for handler in {handler for logger in loggers for handler in logger.handlers}:
        if fmt == "json" or handler in root.handlers:
            # uvicorn's own text format stays for text; it has no place for the context.
            handler.setFormatter(_formatter(fmt))
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())

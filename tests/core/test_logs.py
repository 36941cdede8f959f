"""core.logs: the context rides on every line, as JSON or text, and ends with its scope."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from core import logs


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield stream, handler
    logger.removeHandler(handler)
    logger.propagate = True


def test_json_lines_carry_the_bound_context(captured: tuple[io.StringIO, logging.Handler]) -> None:
    stream, handler = captured
    handler.setFormatter(logs.JsonFormatter())
    with logs.scope(request_id="r-1"):
        logs.bind(fan_id=7, drop_id=3)
        logs.bind(order_id="o-9", hold_id=None)  # None: not known, not written
        logging.getLogger("tests.logs").info("paid %s", "now")
    logging.getLogger("tests.logs").info("after")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["msg"] == "paid now" and first["level"] == "info"
    assert first["logger"] == "tests.logs" and first["ts"].endswith("+00:00")
    assert {k: first[k] for k in ("request_id", "fan_id", "drop_id", "order_id")} == {
        "request_id": "r-1", "fan_id": 7, "drop_id": 3, "order_id": "o-9"}
    assert "hold_id" not in first
    assert "request_id" not in second  # the scope ended


def test_extra_fields_and_tracebacks_are_kept(captured: tuple[io.StringIO, logging.Handler]
                                              ) -> None:
    stream, handler = captured
    handler.setFormatter(logs.JsonFormatter())
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("tests.logs").exception("failed", extra={"order_id": "o-1"})
    line = json.loads(stream.getvalue())
    assert line["order_id"] == "o-1" and "RuntimeError: boom" in line["exc"]


def test_text_lines_append_the_context(captured: tuple[io.StringIO, logging.Handler]) -> None:
    stream, handler = captured
    handler.setFormatter(logging.Formatter(logs.TEXT_FORMAT))
    with logs.scope(request_id="abc"):
        logs.bind(fan_id=5)
        logging.getLogger("tests.logs").info("hello")
    assert stream.getvalue().rstrip().endswith("INFO tests.logs hello request_id=abc fan_id=5")


async def test_tasks_keep_their_own_context() -> None:
    async def one(request_id: str) -> dict[str, logs.LogValue]:
        with logs.scope(request_id=request_id):
            await asyncio.sleep(0)
            logs.bind(fan_id=len(request_id))
            await asyncio.sleep(0)
            return dict(logs.current())

    got = await asyncio.gather(one("a"), one("bb"))
    assert got == [{"request_id": "a", "fan_id": 1}, {"request_id": "bb", "fan_id": 2}]


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown log fields"):
        logs.bind(fan=1)


def test_configure_formats_every_root_handler_as_json() -> None:
    root = logging.getLogger()
    saved, level = [(handler, handler.formatter) for handler in root.handlers], root.level
    stream = io.StringIO()
    added = logging.StreamHandler(stream)
    root.addHandler(added)
    try:
        logs.configure("json")
        with logs.scope(request_id="cfg"):
            logging.getLogger("tests.configured").warning("w")
        assert json.loads(stream.getvalue().splitlines()[-1])["request_id"] == "cfg"
    finally:
        root.removeHandler(added)
        root.setLevel(level)
        for handler, formatter in saved:
            handler.setFormatter(formatter)

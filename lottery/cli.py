"""`ticketq verify-draw`: recompute a lottery draw from its published values.

    ticketq verify-draw draw.json        # a saved `GET /api/drops/{id}/draw` response
    curl -s .../api/drops/7/draw | ticketq verify-draw -
    ticketq verify-draw --drop 7         # the same document, built from the database

Prints one line per check and exits 0 when everything matches, 1 when anything
does not, 2 when the document cannot be checked at all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from core.db import create_engine, create_sessionmaker
from core.models import Drop
from core.settings import Settings
from lottery.models import LotteryDrop
from lottery.published import draw_document
from lottery.verify import MalformedDocument, all_passed, verify_document


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ticketq verify-draw",
        description="Recompute a lottery draw from its published values and compare.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", help="draw document (JSON) to check; '-' for stdin")
    source.add_argument("--drop", type=int, help="build the document from the database instead")
    return parser


def _read_file(name: str) -> dict[str, Any]:
    raw = sys.stdin.read() if name == "-" else Path(name).read_text()
    document = json.loads(raw)
    if not isinstance(document, dict):
        raise MalformedDocument("the draw document must be a JSON object")
    return document


async def _from_database(database_url: str, drop_id: int) -> dict[str, Any]:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with create_sessionmaker(engine)() as session:
            lottery = await session.get(LotteryDrop, drop_id)
            drop = await session.get(Drop, drop_id)
            if lottery is None or drop is None:
                raise MalformedDocument(f"drop {drop_id} has no lottery")
            return await draw_document(session, lottery, drop)
    finally:
        await engine.dispose()


def report(document: dict[str, Any], out: TextIO | None = None) -> int:
    """Print the checks; the exit status."""
    out = out or sys.stdout
    try:
        checks = verify_document(document)
    except MalformedDocument as exc:
        print(f"cannot verify: {exc}", file=out)
        return 2
    for check in checks:
        print(f"{'ok      ' if check.ok else 'MISMATCH'}  {check.name}: {check.detail}", file=out)
    if all_passed(checks):
        print(f"draw of drop {document.get('drop_id')} verified: "
              f"{len(document.get('winners') or [])} winners out of "
              f"{document.get('entries_count')} entries", file=out)
        return 0
    print("the published draw does NOT match its own inputs", file=out)
    return 1


def verify_draw_command(settings: Settings, args: argparse.Namespace) -> int:
    argv = list(getattr(args, "rest", []) or [])
    # Older top-level parsers needed `ticketq verify-draw -- --drop 7`; accept the `--`.
    options = _parser().parse_args(argv[1:] if argv[:1] == ["--"] else argv)
    try:
        if options.drop is not None:
            document = asyncio.run(_from_database(settings.database_url or "", options.drop))
        else:
            document = _read_file(options.file)
    except (OSError, json.JSONDecodeError, MalformedDocument) as exc:
        print(f"cannot verify: {exc}")
        return 2
    return report(document)

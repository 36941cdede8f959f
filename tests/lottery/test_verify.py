"""verify-draw recomputes a published draw and catches tampering with any part of it."""

from __future__ import annotations

import argparse
import copy
import io
import json
import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from lottery.cli import report, verify_draw_command
from lottery.draw import ALGORITHM, EntryTicket, commitment, entries_digest, run_draw
from lottery.verify import all_passed, verify_document

SEED = bytes(range(100, 132))


def published(n: int = 60, capacity: int = 20, public_randomness: str | None = None
              ) -> dict[str, Any]:
    rng = random.Random(5)
    pool = [EntryTicket(str(uuid.UUID(int=rng.getrandbits(128))), 1, 1 + i % 2) for i in range(n)]
    result = run_draw(SEED, pool, {1: capacity}, public_randomness)
    return {
        "drop_id": 1, "algorithm": ALGORITHM, "state": "drawn", "commitment": commitment(SEED),
        "public_randomness": public_randomness, "entries_count": n,
        "entries_hash": entries_digest(pool),
        "entries": [{"id": e.id, "tier_id": e.tier_id, "quantity": e.quantity}
                    for e in sorted(pool, key=lambda e: e.id)],
        "seed": SEED.hex(), "capacity": {"1": capacity}, "winners": result.winners,
    }


def failed(document: dict[str, Any]) -> set[str]:
    return {check.name for check in verify_document(document) if not check.ok}


def test_an_honest_draw_verifies() -> None:
    assert failed(published()) == set()
    assert failed(published(public_randomness="beacon 42")) == set()


def test_a_tampered_winner_list_is_detected() -> None:
    document = published()
    losers = [e["id"] for e in document["entries"] if e["id"] not in document["winners"]]
    swapped = copy.deepcopy(document)
    swapped["winners"][0] = losers[0]
    assert failed(swapped) == {"winners"}
    dropped = copy.deepcopy(document)
    dropped["winners"].pop()
    assert failed(dropped) == {"winners"}
    reordered = copy.deepcopy(document)
    reordered["winners"][0], reordered["winners"][1] = reordered["winners"][1], \
        reordered["winners"][0]
    assert failed(reordered) == {"winners"}


def test_a_tampered_seed_is_detected() -> None:
    document = published()
    document["seed"] = bytes(32).hex()
    assert "commitment" in failed(document)


def test_a_tampered_entry_list_is_detected() -> None:
    removed = published()
    removed["entries"].pop(3)
    assert {"entries hash", "entries count"} <= failed(removed)
    bigger = published()
    bigger["entries"][0]["quantity"] += 1
    assert "entries hash" in failed(bigger)
    added = published()
    added["entries"].append({"id": str(uuid.uuid4()), "tier_id": 1, "quantity": 1})
    added["entries_count"] += 1
    assert "entries hash" in failed(added)
    duplicated = published()
    duplicated["entries"].append(dict(duplicated["entries"][0]))
    assert "unique entries" in failed(duplicated)


def test_tampered_public_randomness_or_capacity_changes_the_winners() -> None:
    document = published(public_randomness="beacon 42")
    document["public_randomness"] = "beacon 43"
    assert failed(document) == {"winners"}
    document = published()
    document["capacity"] = {"1": 5}
    assert failed(document) == {"winners"}


def test_report_prints_a_verdict() -> None:
    out = io.StringIO()
    assert report(published(), out) == 0
    assert "verified" in out.getvalue()
    tampered = published()
    tampered["seed"] = bytes(32).hex()
    out = io.StringIO()
    assert report(tampered, out) == 1
    assert "MISMATCH  commitment" in out.getvalue()
    out = io.StringIO()
    assert report({"algorithm": ALGORITHM, "seed": None}, out) == 2


def test_cli_verifies_a_saved_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    good = tmp_path / "draw.json"
    good.write_text(json.dumps(published()))
    assert verify_draw_command(Settings(), argparse.Namespace(rest=[str(good)])) == 0
    assert verify_draw_command(Settings(), argparse.Namespace(rest=["--", str(good)])) == 0
    bad = tmp_path / "bad.json"
    tampered = published()
    tampered["winners"] = list(reversed(tampered["winners"]))
    bad.write_text(json.dumps(tampered))
    assert verify_draw_command(Settings(), argparse.Namespace(rest=[str(bad)])) == 1
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    assert verify_draw_command(Settings(), argparse.Namespace(rest=[str(junk)])) == 2
    assert "MISMATCH  winners" in capsys.readouterr().out
    assert all_passed(verify_document(published()))

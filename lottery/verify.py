"""Checking a published draw: recompute everything from the document and compare.

The document is what `GET /api/drops/{id}/draw` returns (lottery/published.py
builds it). Verification trusts nothing in it except the inputs a fan can
check elsewhere (their own entry id in the list, the tiers' capacities): the
commitment must hash from the seed, the entry list must hash to the sealed
hash and count, and the winners must be exactly what the algorithm picks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from lottery.draw import ALGORITHM, SEED_BYTES, EntryTicket, commitment, entries_digest, run_draw


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


class MalformedDocument(ValueError):
    """The document lacks a field or has one of the wrong type."""


def _entries(document: dict[str, Any]) -> list[EntryTicket]:
    raw = document.get("entries")
    if not isinstance(raw, list):
        raise MalformedDocument("'entries' must be a list of {id, tier_id, quantity}")
    try:
        return [EntryTicket(id=str(item["id"]), tier_id=int(item["tier_id"]),
                            quantity=int(item["quantity"])) for item in raw]
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedDocument(f"an entry is not {{id, tier_id, quantity}}: {exc}") from exc


def _seed(document: dict[str, Any]) -> bytes:
    raw = document.get("seed")
    if not isinstance(raw, str):
        raise MalformedDocument("no 'seed' yet: the draw has not happened")
    try:
        seed = bytes.fromhex(raw)
    except ValueError as exc:
        raise MalformedDocument("'seed' is not hex") from exc
    if len(seed) != SEED_BYTES:
        raise MalformedDocument(f"'seed' must be {SEED_BYTES} bytes, got {len(seed)}")
    return seed


def _capacity(document: dict[str, Any]) -> dict[int, int]:
    raw = document.get("capacity")
    if not isinstance(raw, dict):
        raise MalformedDocument("'capacity' must map tier ids to seats")
    try:
        return {int(tier_id): int(seats) for tier_id, seats in raw.items()}
    except (TypeError, ValueError) as exc:
        raise MalformedDocument(f"'capacity' is not tier id -> seats: {exc}") from exc


def _first_difference(published: list[str], expected: list[str]) -> str:
    for position, (got, want) in enumerate(zip(published, expected, strict=False), start=1):
        if got != want:
            return f"winner #{position} is {got}, the algorithm picks {want}"
    return (f"{len(published)} winners published, the algorithm picks {len(expected)}")


def verify_document(document: dict[str, Any]) -> list[Check]:
    """Every check, passed or not. Raises MalformedDocument when one cannot even run."""
    checks: list[Check] = []
    algorithm = document.get("algorithm")
    checks.append(Check("algorithm", algorithm == ALGORITHM,
                        f"document says {algorithm!r}; this verifier knows {ALGORITHM!r}"))
    seed = _seed(document)
    entries = _entries(document)
    capacity = _capacity(document)
    winners = document.get("winners")
    if not isinstance(winners, list) or not all(isinstance(w, str) for w in winners):
        raise MalformedDocument("'winners' must be a list of entry ids")

    recomputed = commitment(seed)
    checks.append(Check("commitment", recomputed == document.get("commitment"),
                        f"sha256(seed) = {recomputed}, published {document.get('commitment')}"))
    duplicates = [entry_id for entry_id, n in Counter(e.id for e in entries).items() if n > 1]
    checks.append(Check("unique entries", not duplicates,
                        f"duplicated ids: {duplicates[:3]}" if duplicates else "no duplicates"))
    checks.append(Check("entries count", len(entries) == document.get("entries_count"),
                        f"{len(entries)} entries listed, published count "
                        f"{document.get('entries_count')}"))
    digest = entries_digest(entries)
    checks.append(Check("entries hash", digest == document.get("entries_hash"),
                        f"hash of the listed entries = {digest}, published at close "
                        f"{document.get('entries_hash')}"))
    public_randomness = document.get("public_randomness")
    if public_randomness is not None and not isinstance(public_randomness, str):
        raise MalformedDocument("'public_randomness' must be a string or null")
    result = run_draw(seed, entries, capacity, public_randomness)
    same = result.winners == winners
    checks.append(Check("winners", same, f"{len(winners)} winners match the recomputed draw"
                        if same else _first_difference(winners, result.winners)))
    return checks


def all_passed(checks: list[Check]) -> bool:
    return all(check.ok for check in checks)

"""The lottery draw as pure functions: no I/O, no clock, the seed is an argument.

Algorithm "ticketq-lottery-v1", byte by byte (docs/lottery.md repeats it for
anyone who wants to check a draw with their own code):

  commitment   = hex(sha256(seed))                          seed: 32 random bytes
  entries_hash = hex(sha256(concat of f"{id},{tier_id},{quantity}\\n"
                                for every entry, sorted by id (UTF-8)))
  draw_key     = seed                                        without public randomness
               = hmac_sha256(seed, b"ticketq-lottery-v1/public-randomness/" + utf8(value))
  score(entry) = hmac_sha256(draw_key, utf8(entry id))       32 bytes
  ranking      = entries sorted by (score, id), ascending
  winners      = walk the ranking: an entry wins when its quantity fits what is
                 left of its tier's capacity (which then shrinks by it); an
                 entry that does not fit loses and the walk goes on.

Every entry's score depends only on the seed, the public randomness and its own
id, so adding, removing or reordering other entries never changes how two
entries compare; only capacity decides where the winners stop.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

ALGORITHM = "ticketq-lottery-v1"
SEED_BYTES = 32
PUBLIC_RANDOMNESS_LABEL = b"ticketq-lottery-v1/public-randomness/"


@dataclass(frozen=True)
class EntryTicket:
    """What the draw knows of an entry: an opaque id, the tier and how many seats."""

    id: str
    tier_id: int
    quantity: int


@dataclass(frozen=True)
class DrawResult:
    ranking: list[EntryTicket]  # every entry, best rank first
    winners: list[str]  # winning entry ids, in rank order
    remaining: dict[int, int]  # capacity left per tier after the winners

    @property
    def rank_of(self) -> dict[str, int]:
        """1-based rank of every entry id."""
        return {entry.id: position for position, entry in enumerate(self.ranking, start=1)}


def commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def entries_digest(entries: Iterable[EntryTicket]) -> str:
    """The hash published when the window closes: the frozen list of entries."""
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda item: item.id):
        digest.update(f"{entry.id},{entry.tier_id},{entry.quantity}\n".encode())
    return digest.hexdigest()


def draw_key(seed: bytes, public_randomness: str | None = None) -> bytes:
    if not public_randomness:
        return seed
    message = PUBLIC_RANDOMNESS_LABEL + public_randomness.encode()
    return hmac.new(seed, message, hashlib.sha256).digest()


def rank_entries(
    seed: bytes, entries: Iterable[EntryTicket], public_randomness: str | None = None
) -> list[EntryTicket]:
    # One keyed HMAC state copied per entry: the key schedule is paid once, not 100,000 times.
    keyed = hmac.new(draw_key(seed, public_randomness), digestmod=hashlib.sha256)

    def score(entry: EntryTicket) -> tuple[bytes, str]:
        state = keyed.copy()
        state.update(entry.id.encode())
        return state.digest(), entry.id

    return sorted(entries, key=score)


def pick_winners(ranking: Sequence[EntryTicket], capacity: Mapping[int, int]) -> DrawResult:
    remaining = {int(tier_id): int(seats) for tier_id, seats in capacity.items()}
    winners = []
    for entry in ranking:
        left = remaining.get(entry.tier_id, 0)
        if entry.quantity <= left:
            remaining[entry.tier_id] = left - entry.quantity
            winners.append(entry.id)
    return DrawResult(ranking=list(ranking), winners=winners, remaining=remaining)


def run_draw(
    seed: bytes,
    entries: Iterable[EntryTicket],
    capacity: Mapping[int, int],
    public_randomness: str | None = None,
) -> DrawResult:
    """Rank every entry and choose the winners. Same inputs, same result, always."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"a draw seed is {SEED_BYTES} bytes, got {len(seed)}")
    return pick_winners(rank_entries(seed, entries, public_randomness), capacity)

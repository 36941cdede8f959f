"""Small, dependency-free statistics for the report: percentiles and Kendall's tau-b."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "count": len(values),
        "p50": rounded(percentile(values, 50)),
        "p95": rounded(percentile(values, 95)),
        "p99": rounded(percentile(values, 99)),
        "max": rounded(max(values)) if values else None,
    }


def _tied_pairs(sorted_values: Sequence[Any]) -> int:
    """Pairs of equal neighbours-runs in a sorted sequence: sum of run * (run - 1) / 2."""
    pairs, run = 0, 1
    for previous, current in itertools.pairwise(sorted_values):
        if current == previous:
            run += 1
        else:
            pairs += run * (run - 1) // 2
            run = 1
    return pairs + run * (run - 1) // 2


def _count_inversions(values: list[float]) -> int:
    """Strict inversions (i < j, v[i] > v[j]) by merge sort; sorts `values` in place."""
    if len(values) < 2:
        return 0
    middle = len(values) // 2
    left, right = values[:middle], values[middle:]
    inversions = _count_inversions(left) + _count_inversions(right)
    i = j = k = 0
    while i < len(left) and j < len(right):
        if right[j] < left[i]:
            values[k] = right[j]
            inversions += len(left) - i
            j += 1
        else:
            values[k] = left[i]
            i += 1
        k += 1
    values[k:] = left[i:] + right[j:]
    return inversions


@dataclass(frozen=True)
class RankAgreement:
    """How well two orders agree, pair by pair.

    tau_b: Kendall's tau-b (1.0 only if both orders also tie the same pairs).
    gamma: Goodman-Kruskal gamma, (C - D) / (C + D): pairs tied in either order are
      left out, so it is 1.0 when no untied pair is reversed (admission ticks tie
      fans admitted together, which tau-b counts against agreement and gamma does not).
    discordant: pairs ordered one way by x and the other way by y.
    """

    tau_b: float | None
    gamma: float | None
    pairs: int
    discordant: int


def rank_agreement(x: Sequence[float], y: Sequence[float]) -> RankAgreement:
    """Kendall's tau-b and friends in O(n log n) (Knight's algorithm); ties allowed."""
    n = len(x)
    if n != len(y):
        raise ValueError("x and y must have the same length")
    if n < 2:
        return RankAgreement(None, None, 0, 0)
    pairs = sorted(zip(x, y, strict=True))
    total = n * (n - 1) // 2
    tied_x = _tied_pairs([p[0] for p in pairs])
    tied_xy = _tied_pairs(pairs)
    ys = [p[1] for p in pairs]
    # Strict inversions of y after sorting by (x, y): pairs with x tied are in y order,
    # so they never count; every one left is a discordant pair.
    discordant = _count_inversions(ys)  # ys is now sorted
    tied_y = _tied_pairs(ys)
    untied = total - tied_x - tied_y + tied_xy  # concordant + discordant
    concordant = untied - discordant
    denominator = math.sqrt((total - tied_x) * (total - tied_y))
    return RankAgreement(
        tau_b=(concordant - discordant) / denominator if denominator else None,
        gamma=(concordant - discordant) / untied if untied else None,
        pairs=total,
        discordant=discordant,
    )


def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b: 1.0 the orders agree on every pair, 0 unrelated, -1.0 reversed."""
    return rank_agreement(x, y).tau_b

"""Percentiles and rank agreement, checked against brute force on random data with ties."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from loadtest.stats import kendall_tau_b, percentile, rank_agreement


def brute_force(x: list[float], y: list[float]) -> tuple[float | None, float | None, int]:
    concordant = discordant = tied_x = tied_y = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = x[i] - x[j], y[i] - y[j]
        if dx == 0:
            tied_x += 1
        if dy == 0:
            tied_y += 1
        if dx and dy:
            if (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    total = len(x) * (len(x) - 1) // 2
    denominator = math.sqrt((total - tied_x) * (total - tied_y))
    tau = (concordant - discordant) / denominator if denominator else None
    untied = concordant + discordant
    gamma = (concordant - discordant) / untied if untied else None
    return tau, gamma, discordant


@pytest.mark.parametrize("seed", range(20))
def test_rank_agreement_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(2, 60)
    x = [float(rng.randint(0, 15)) for _ in range(n)]
    y = [float(rng.randint(0, 15)) for _ in range(n)]
    tau, gamma, discordant = brute_force(x, y)
    got = rank_agreement(x, y)
    assert got.discordant == discordant
    assert (got.tau_b is None) == (tau is None)
    assert (got.gamma is None) == (gamma is None)
    if tau is not None:
        assert got.tau_b == pytest.approx(tau)
    if gamma is not None:
        assert got.gamma == pytest.approx(gamma)


def test_perfect_order_with_admission_ticks_is_gamma_one() -> None:
    joined = [float(i) for i in range(10)]
    admitted = [float(i // 3) for i in range(10)]  # three fans per tick, in join order
    agreement = rank_agreement(joined, admitted)
    assert agreement.gamma == 1.0
    assert agreement.discordant == 0
    assert agreement.tau_b is not None and agreement.tau_b < 1.0


def test_reversed_order_is_minus_one_and_degenerate_cases() -> None:
    assert kendall_tau_b([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert kendall_tau_b([1], [1]) is None
    assert kendall_tau_b([1, 1, 1], [1, 2, 3]) is None
    with pytest.raises(ValueError):
        rank_agreement([1, 2], [1])


def test_percentile_interpolates() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile(list(range(101)), 95) == pytest.approx(95.0)

"""bench/gate/intervals.py: exact null distributions, interval coverage at small sizes, determinism."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from bench.gate import intervals as iv


def test_mann_whitney_null_counts_match_brute_force() -> None:
    n, m = 3, 4
    brute = np.zeros(n * m + 1)
    for x_positions in itertools.combinations(range(n + m), n):
        # U counts (x, y) pairs with x above y: each x at rank r beats the y's below it.
        brute[sum(x_positions) - n * (n - 1) // 2] += 1
    assert iv.mann_whitney_null_counts(n, m).tolist() == brute.tolist()


def test_signed_rank_null_counts_match_brute_force() -> None:
    n = 5
    brute = np.zeros(n * (n + 1) // 2 + 1)
    for signs in itertools.product((0, 1), repeat=n):
        brute[sum(rank for rank, positive in zip(range(1, n + 1), signs, strict=True) if positive)] += 1
    assert iv.signed_rank_null_counts(n).tolist() == brute.tolist()


def test_three_against_three_cannot_bound_a_95_percent_interval() -> None:
    # The most extreme ordering has probability 1/20 each side: no exact 95% interval exists.
    low, high = iv.mann_whitney_interval([1.1, 1.2, 1.3], [0.0, 0.1, 0.2], confidence=0.95)
    assert (low, high) == (-math.inf, math.inf)
    low, high = iv.mann_whitney_interval([1.1, 1.2, 1.3], [0.0, 0.1, 0.2], confidence=0.80)
    assert 0 < low <= high


def test_mann_whitney_interval_brackets_a_clear_shift() -> None:
    rng = np.random.default_rng(3)
    current, baseline = rng.normal(0.2, 0.02, 8), rng.normal(0.0, 0.02, 8)
    low, high = iv.mann_whitney_interval(current, baseline, confidence=0.99)
    assert 0.1 < low < 0.2 < high < 0.3


def test_paired_intervals_need_enough_pairs_for_their_confidence() -> None:
    differences = [0.1, 0.12, 0.09, 0.11, 0.1]
    assert iv.signed_rank_interval(differences, confidence=0.95) == (-math.inf, math.inf)  # 2/32 > 5%
    low, high = iv.signed_rank_interval([*differences, 0.1], confidence=0.95)
    assert low == min(differences) and high == 0.12  # with 6 pairs: the range of the differences
    assert iv.t_interval([0.1], confidence=0.95) == (-math.inf, math.inf)


def test_t_interval_of_identical_pairs_has_no_width() -> None:
    assert iv.t_interval([0.05, 0.05, 0.05], confidence=0.99) == pytest.approx((0.05, 0.05))


@pytest.mark.parametrize("method", list(iv.PairedMethod))
def test_paired_shift_centres_on_the_ratio(method: iv.PairedMethod) -> None:
    log_ratios = [math.log(1.2) + noise for noise in (0.01, -0.01, 0.0, 0.02, -0.02, 0.005, -0.005, 0.0)]
    shift = iv.paired_shift(log_ratios, method=method, confidence=0.95, resamples=2000, seed=1)
    assert math.exp(shift.estimate) == pytest.approx(1.2, rel=0.01)
    assert shift.low < math.log(1.2) < shift.high
    assert shift.bounded


@pytest.mark.parametrize("method", list(iv.IndependentMethod))
def test_independent_shift_is_deterministic(method: iv.IndependentMethod) -> None:
    current, baseline = [0.21, 0.19, 0.2, 0.22, 0.18], [0.0, 0.01, -0.01, 0.02, -0.02]
    first = iv.independent_shift(current, baseline, method=method, confidence=0.95, resamples=500, seed=4)
    again = iv.independent_shift(current, baseline, method=method, confidence=0.95, resamples=500, seed=4)
    assert first == again
    assert first.estimate == pytest.approx(0.2)


def test_confidence_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match="confidence"):
        iv.t_interval([0.1, 0.2], confidence=1.0)


def test_the_sign_interval_excludes_zero_when_every_difference_agrees() -> None:
    from bench.gate.intervals import sign_interval

    low, high = sign_interval([0.08, 0.35, 0.1, 0.3, 0.09, 0.26, 0.11, 0.32], confidence=0.983)
    assert 0 < low <= high
    assert sign_interval([0.1, -0.1, 0.2, -0.2], confidence=0.95) == (-math.inf, math.inf)

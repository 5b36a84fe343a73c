"""bench/run/loadgen/sweep.py: the sweep's plan, the pool's size and what a step records."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from bench.results import RECOVERY_PHASE, SWEEP_PHASE, UNLOADED_PHASE, WARMUP_PHASE
from bench.run.loadgen.sweep import (
    EVEN,
    LATE_SHARE,
    MIN_OPEN_USERS,
    MIN_RATE_RPS,
    POISSON,
    SLICES_PER_STEP,
    PlannedStep,
    StepRecorder,
    SweepGrid,
    arrival_offsets,
    corrected_latency_ms,
    is_timeout,
    plan_sweep,
    pool_size,
    shared_grid,
    with_arrivals,
)

SHARES = [0.25, 0.5, 0.75, 0.9, 1.0, 1.25]


def planned(
    *, peak_rps: float, shares: list[float], peaks: list[float] | None = None, **options: float
) -> list[PlannedStep]:
    """Return the steps planned for an app of peak_rps among apps of peaks (default: it alone)."""
    plan: dict[str, float] = {"step_s": 2, "warmup_s": 1, "recovery_share": 0.5} | options
    grid = shared_grid(peaks=peaks or [peak_rps], shares=shares)
    return plan_sweep(grid=grid, peak_rps=peak_rps, **plan)


def test_the_plan_runs_warmup_unloaded_the_shares_then_recovery() -> None:
    steps = with_arrivals(planned(peak_rps=1000, shares=SHARES), arrivals=EVEN)
    assert [step.phase for step in steps] == [
        WARMUP_PHASE,
        UNLOADED_PHASE,
        *[SWEEP_PHASE] * len(SHARES),
        RECOVERY_PHASE,
    ]
    assert [step.rate_rps for step in steps[2:-1]] == pytest.approx([250, 500, 750, 900, 1000, 1250])
    assert [step.share for step in steps[2:-1]] == pytest.approx(SHARES), "one app alone: its own shares"
    assert steps[-1].rate_rps == 500
    assert steps[1].rate_rps == 50  # 5% of the peak
    assert steps[0].duration_s == 1 and all(step.duration_s == 2 for step in steps[1:])
    assert steps[2].planned == 500
    assert steps[2].due_s()[:3] == pytest.approx((0.0, 0.004, 0.008))


def poisson_step(seed: int, *, rate: float = 1000, duration_s: float = 20) -> tuple[float, ...]:
    return arrival_offsets(rate_rps=rate, duration_s=duration_s, arrivals=POISSON, rng=random.Random(seed))


def test_poisson_arrivals_keep_the_mean_rate_with_exponential_gaps() -> None:
    offsets = poisson_step(7)
    # 20,000 expected; a Poisson count's sd is sqrt(20,000) = 141: within 1.5% is 2 sd, fixed by the seed.
    assert len(offsets) == pytest.approx(20_000, rel=0.015)
    assert list(offsets) == sorted(offsets) and offsets[0] >= 0 and offsets[-1] < 20
    gaps = [later - earlier for earlier, later in itertools.pairwise(offsets)]
    mean = sum(gaps) / len(gaps)
    assert mean == pytest.approx(0.001, rel=0.02)
    # Exponential: about e^-1 = 37% of the gaps are longer than the mean (evenly spaced: none or all).
    assert sum(gap > mean for gap in gaps) / len(gaps) == pytest.approx(math.exp(-1), abs=0.02)


def test_poisson_arrivals_are_reproducible_from_the_seed_and_differ_between_seeds() -> None:
    assert poisson_step(1) == poisson_step(1)
    assert poisson_step(1) != poisson_step(2)
    steps = planned(peak_rps=500, shares=SHARES)
    assert with_arrivals(steps, seed=3) == with_arrivals(steps, seed=3)
    assert [s.offsets_s for s in with_arrivals(steps, seed=3)] != [
        s.offsets_s for s in with_arrivals(steps, seed=4)
    ]


def test_poisson_is_the_default_and_even_spacing_an_option() -> None:
    steps = planned(peak_rps=500, shares=[1.0], warmup_s=0)
    default, even = with_arrivals(steps)[1], with_arrivals(steps, arrivals=EVEN)[1]
    assert len(set(rounded_gaps(default.due_s()))) > 2, "Poisson gaps vary"
    assert set(rounded_gaps(even.due_s())) == {0.002}
    with pytest.raises(ValueError, match="arrivals must be one of poisson, even"):
        with_arrivals(steps, arrivals="bursty")


def rounded_gaps(offsets: tuple[float, ...]) -> list[float]:
    """Return the gaps between consecutive offsets, rounded to the microsecond."""
    return [round(later - earlier, 6) for earlier, later in itertools.pairwise(offsets)]


def test_a_poisson_step_plans_at_least_one_request() -> None:
    assert len(poisson_step(0, rate=10, duration_s=0.001)) == 1


def test_a_slow_peak_still_offers_a_minimum_rate_and_no_warmup_is_allowed() -> None:
    steps = planned(peak_rps=40, shares=[0.5], step_s=1, warmup_s=0)
    assert steps[0].phase == UNLOADED_PHASE
    assert min(step.rate_rps for step in steps) == MIN_RATE_RPS


def test_a_sweep_needs_a_rate() -> None:
    with pytest.raises(ValueError, match="above zero"):
        shared_grid(peaks=[0.0, math.nan], shares=SHARES)
    with pytest.raises(ValueError, match="above zero"):
        plan_sweep(
            grid=SweepGrid(rates=(100.0,), base_rps=100.0),
            peak_rps=0,
            step_s=2,
            warmup_s=1,
            recovery_share=0.5,
        )


def test_the_pool_covers_a_tenth_of_a_second_of_the_highest_rate_within_bounds() -> None:
    steps = planned(peak_rps=1000, shares=SHARES)
    assert pool_size(steps, max_users=512) == 125
    assert pool_size(steps, max_users=100) == 100
    slow = planned(peak_rps=50, shares=SHARES)
    assert pool_size(slow, max_users=512) == MIN_OPEN_USERS


# --- one grid of offered rates for every app of a scenario ----------------------------------------------

PEAKS = {"django": 360.0, "flask": 520.0, "fastapi": 540.0}  # api's closed-loop rates, roughly, as measured


def test_the_grid_runs_from_the_lowest_share_of_the_slowest_to_the_highest_share_of_the_fastest() -> None:
    grid = shared_grid(peaks=list(PEAKS.values()), shares=SHARES)
    assert grid.rates[0] == pytest.approx(0.25 * 360) and grid.rates[-1] == pytest.approx(1.25 * 540)
    assert list(grid.rates) == sorted(grid.rates), "rising, as the shares do"
    # The shares keep their relative places: 0.5 is a quarter of the way from 0.25 to 1.25.
    assert grid.rates[1] == pytest.approx(90 + 0.25 * (675 - 90))
    assert grid.base_rps == 360, "warm-up, unloaded and recovery are shares of the slowest"
    # The order of the apps does not matter; unusable peaks (a failed cell) are left out.
    assert shared_grid(peaks=[540.0, 0.0, 360.0, 520.0, math.nan], shares=SHARES) == grid


def test_equal_peaks_give_each_app_the_sweep_it_would_have_alone() -> None:
    assert shared_grid(peaks=[800.0, 800.0], shares=SHARES).rates == pytest.approx(
        [share * 800 for share in SHARES]
    )
    assert shared_grid(peaks=[300.0, 800.0], shares=[0.5]).rates == (150.0,), "one share: of the slowest"


def test_every_app_of_a_grid_is_offered_the_same_rates_by_the_same_pool() -> None:
    plans = {
        app: planned(peak_rps=peak, shares=SHARES, peaks=list(PEAKS.values())) for app, peak in PEAKS.items()
    }
    rates = {app: [step.rate_rps for step in steps] for app, steps in plans.items()}
    assert rates["django"] == rates["flask"] == rates["fastapi"]
    assert rates["django"][-1] == pytest.approx(0.5 * 360), "recovery at half of the slowest"
    assert rates["django"][1] == pytest.approx(0.05 * 360), "unloaded at 5% of the slowest"
    # The same arrival times too (a trial's seed), and the same connection cap from the highest rate.
    arrivals = {app: with_arrivals(steps, seed=2) for app, steps in plans.items()}
    assert [s.offsets_s for s in arrivals["django"]] == [s.offsets_s for s in arrivals["fastapi"]]
    assert {pool_size(steps, max_users=512) for steps in plans.values()} == {math.ceil(1.25 * 540 * 0.1)}
    # Each step's share is of the app's own peak: the top step overloads each app by its own measure.
    top = {app: steps[-2].share for app, steps in plans.items()}
    assert top["fastapi"] == pytest.approx(1.25)
    assert top["django"] == pytest.approx(1.25 * 540 / 360)
    assert all(steps[-2].share > 1 for steps in plans.values()), "every app is overloaded at the top"


def test_latency_counts_from_the_planned_start() -> None:
    # Planned at t=10 s, sent 150 ms late (the server stalled the user before it), answered in 2 ms.
    assert corrected_latency_ms(planned_s=10.0, sent_s=10.15, response_ms=2.0) == pytest.approx(152.0)
    # Sent early can not happen; it never makes a latency shorter than the response.
    assert corrected_latency_ms(planned_s=10.0, sent_s=9.9, response_ms=2.0) == 2.0


class Timeout(BaseException):
    """Stands for gevent's Timeout (what geventhttpclient raises past its network_timeout)."""


def test_timeouts_are_told_apart_from_other_failures() -> None:
    assert is_timeout(TimeoutError())
    assert is_timeout(Timeout(2.0))
    assert is_timeout(OSError("connection timed out"))
    assert not is_timeout(ConnectionResetError("reset by peer"))
    assert not is_timeout(Exception("HTTP 500"))


def recorder(rate: float = 100, duration_s: float = 2) -> StepRecorder:
    return StepRecorder(PlannedStep(SWEEP_PHASE, 0.5, rate, duration_s))


def test_a_step_reports_corrected_and_uncorrected_percentiles_and_its_slices() -> None:
    step = recorder()
    for number in range(200):
        offset = number / 100
        stalled = number % 100 < 20  # the first 200 ms of each second
        corrected = 150.0 if stalled else 1.0
        step.record(planned_offset_s=offset, corrected_ms=corrected, uncorrected_ms=1.0, exception=None)
        step.completed_in_step += 1
    result = step.result(generator_cpu_util=0.3)
    assert result.requests == 200 and result.failures == 0
    assert result.p99_ms == pytest.approx(150, rel=0.01)
    assert result.uncorrected_p99_ms == pytest.approx(1, rel=0.01)
    assert result.p50_ms == pytest.approx(1, rel=0.01)
    assert result.achieved_rps == 100
    assert len(result.slice_p99_ms) == SLICES_PER_STEP and result.slice_s == 0.25
    # Slices of 250 ms: the first of each second holds the stalled requests.
    assert result.slice_p99_ms[0] == pytest.approx(150, rel=0.01)
    assert result.slice_p99_ms[1] == pytest.approx(1, rel=0.01)
    assert not result.generator_behind


def test_failures_and_timeouts_count_in_the_percentiles_at_the_timeout_as_lower_bounds() -> None:
    step = StepRecorder(PlannedStep(SWEEP_PHASE, 0.5, 100, 2), timeout_ms=2000)
    for _ in range(97):
        step.record(planned_offset_s=0, corrected_ms=5, uncorrected_ms=5, exception=None)
    step.record(planned_offset_s=0, corrected_ms=2100, uncorrected_ms=2000, exception=TimeoutError())
    step.record(planned_offset_s=0, corrected_ms=3, uncorrected_ms=3, exception=Exception("HTTP 503"))
    result = step.result(generator_cpu_util=None)
    assert (result.requests, result.failures, result.timeouts, result.censored) == (99, 2, 1, 2)
    # 2 of 99 at (at least) the timeout: the p99 is one of them, a lower bound; the p50 is exact.
    assert result.p99_ms == pytest.approx(2000, rel=0.01) and result.p99_lower_bound
    assert result.max_ms == pytest.approx(2100, rel=0.01), "a timeout's own latency when it is longer"
    assert result.p50_ms == pytest.approx(5, rel=0.01) and not result.p50_lower_bound
    assert result.slice_p99_ms[0] == pytest.approx(2000, rel=0.01), "the slices count them too"
    assert result.slice_p99_ms[1] is None  # a slice without a request


def test_without_a_timeout_failures_are_only_counted() -> None:
    step = recorder()
    step.record(planned_offset_s=0, corrected_ms=5, uncorrected_ms=5, exception=TimeoutError())
    step.record(planned_offset_s=0, corrected_ms=5, uncorrected_ms=5, exception=None)
    result = step.result(generator_cpu_util=None)
    assert (result.failures, result.censored, result.p99_lower_bound) == (1, 0, False)
    assert result.max_ms == pytest.approx(5, rel=0.01)


def test_late_starts_or_a_busy_generator_mark_a_step() -> None:
    step = recorder(rate=1000)  # 2,000 planned
    step.late_starts = int(LATE_SHARE * 2000)
    assert not step.result(generator_cpu_util=0.5).generator_behind
    step.late_starts += 1
    assert step.result(generator_cpu_util=0.5).generator_behind
    step.late_starts = 0
    assert step.result(generator_cpu_util=0.95).generator_behind

"""bench/run/loadgen/sweep.py: the sweep's plan, the pool's size and what a step records."""

from __future__ import annotations

import pytest

from bench.results import RECOVERY_PHASE, SWEEP_PHASE, UNLOADED_PHASE, WARMUP_PHASE
from bench.run.loadgen.sweep import (
    LATE_SHARE,
    MIN_OPEN_USERS,
    MIN_RATE_RPS,
    SLICES_PER_STEP,
    PlannedStep,
    StepRecorder,
    corrected_latency_ms,
    is_timeout,
    plan_sweep,
    pool_size,
)

SHARES = [0.25, 0.5, 0.75, 0.9, 1.0, 1.25]


def test_the_plan_runs_warmup_unloaded_the_shares_then_recovery() -> None:
    steps = plan_sweep(peak_rps=1000, shares=SHARES, step_s=2, warmup_s=1, recovery_share=0.5)
    assert [step.phase for step in steps] == [
        WARMUP_PHASE,
        UNLOADED_PHASE,
        *[SWEEP_PHASE] * len(SHARES),
        RECOVERY_PHASE,
    ]
    assert [step.rate_rps for step in steps[2:-1]] == [250, 500, 750, 900, 1000, 1250]
    assert steps[-1].rate_rps == 500
    assert steps[1].rate_rps == 50  # 5% of the peak
    assert steps[0].duration_s == 1 and all(step.duration_s == 2 for step in steps[1:])
    assert steps[2].planned == 500


def test_a_slow_peak_still_offers_a_minimum_rate_and_no_warmup_is_allowed() -> None:
    steps = plan_sweep(peak_rps=40, shares=[0.5], step_s=1, warmup_s=0, recovery_share=0.5)
    assert steps[0].phase == UNLOADED_PHASE
    assert min(step.rate_rps for step in steps) == MIN_RATE_RPS


def test_a_sweep_needs_a_rate() -> None:
    with pytest.raises(ValueError, match="above zero"):
        plan_sweep(peak_rps=0, shares=SHARES, step_s=2, warmup_s=1, recovery_share=0.5)


def test_the_pool_covers_a_tenth_of_a_second_of_the_highest_rate_within_bounds() -> None:
    steps = plan_sweep(peak_rps=1000, shares=SHARES, step_s=2, warmup_s=1, recovery_share=0.5)
    assert pool_size(steps, max_users=512) == 125
    assert pool_size(steps, max_users=100) == 100
    slow = plan_sweep(peak_rps=50, shares=SHARES, step_s=2, warmup_s=1, recovery_share=0.5)
    assert pool_size(slow, max_users=512) == MIN_OPEN_USERS


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


def test_failures_and_timeouts_are_counted_not_timed() -> None:
    step = recorder()
    step.record(planned_offset_s=0, corrected_ms=5, uncorrected_ms=5, exception=TimeoutError())
    step.record(planned_offset_s=0, corrected_ms=5, uncorrected_ms=5, exception=Exception("HTTP 503"))
    step.record(planned_offset_s=0, corrected_ms=5, uncorrected_ms=5, exception=None)
    result = step.result(generator_cpu_util=None)
    assert (result.requests, result.failures, result.timeouts) == (3, 2, 1)
    assert result.max_ms == pytest.approx(5, rel=0.01)
    assert result.slice_p99_ms[1] is None  # a slice without a request


def test_late_starts_or_a_busy_generator_mark_a_step() -> None:
    step = recorder(rate=1000)  # 2,000 planned
    step.late_starts = int(LATE_SHARE * 2000)
    assert not step.result(generator_cpu_util=0.5).generator_behind
    step.late_starts += 1
    assert step.result(generator_cpu_util=0.5).generator_behind
    step.late_starts = 0
    assert step.result(generator_cpu_util=0.95).generator_behind

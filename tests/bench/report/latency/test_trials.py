"""bench/report/latency/trials.py: per trial the capacity at a target, the knee, the overload step and the
recovery, from synthetic sweeps."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench.report.latency.trials import (
    ABOVE,
    BELOW,
    Bounded,
    capacity_at,
    knee_of,
    overload_of,
    recovery_of,
    steps_of,
    trial_sweep,
)
from bench.results import RECOVERY_PHASE, SweepStep, rows_to_dicts, sweep_steps
from tests.bench.report.synthetic_sweep import PROFILE, SHARES, one_outlier, step, sweep, with_sweep
from tests.bench.synthetic_run import synthetic_rows

PEAK = 1000.0


def sweep_of(p99s: list[float | None], **changes: Any) -> list[SweepStep]:
    """Return the sweep-phase steps of a sweep at PEAK with these p99s."""
    return steps_of({"sweep": sweep(peak=PEAK, p99s=p99s, **changes)})


# ---- capacity at the target ------------------------------------------------------------------------------


def test_capacity_is_interpolated_on_log_p99_between_the_last_step_under_and_the_first_over() -> None:
    steps = sweep_of([5.0, 8.0, 20.0, 40.0, 80.0, 200.0])
    capacity = capacity_at(steps, 10.0)
    part = (math.log(10) - math.log(8)) / (math.log(20) - math.log(8))
    assert capacity.rps == pytest.approx(500 + part * 250) and capacity.bound == ""


def test_a_step_exactly_at_the_target_is_under_it() -> None:
    assert capacity_at(sweep_of([5.0, 10.0, 10.0, 40.0, 80.0, 200.0]), 10.0).rps == pytest.approx(750)


def test_capacity_below_the_lowest_step_and_at_or_above_the_highest() -> None:
    assert capacity_at(sweep_of([15.0, 20.0, 30.0, 40.0, 80.0, 200.0]), 10.0) == Bounded(250.0, BELOW)
    assert capacity_at(sweep_of([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), 10.0) == Bounded(1250.0, ABOVE)


def test_one_step_over_the_target_between_steps_under_it_is_an_outlier() -> None:
    # Flask's fortunes in one trial: 67.5 ms at 50% of its peak, then under the target again.
    capacity = capacity_at(sweep_of([5.0, 67.5, 8.0, 9.0, 30.0, 200.0]), 10.0)
    assert 900 < capacity.rps < 1000 and capacity.bound == ""


def test_two_steps_in_a_row_over_the_target_decide_the_capacity_even_if_later_steps_are_under_it() -> None:
    capacity = capacity_at(sweep_of([5.0, 20.0, 20.0, 5.0, 5.0, 5.0]), 10.0)
    assert 250 < capacity.rps < 500


def test_the_last_step_over_the_target_needs_no_second_one() -> None:
    capacity = capacity_at(sweep_of([5.0, 6.0, 7.0, 8.0, 9.0, 20.0]), 10.0)
    assert 1000 < capacity.rps < 1250


def test_an_outlier_at_the_lowest_step_does_not_put_the_capacity_below_it() -> None:
    assert capacity_at(sweep_of([50.0, 5.0, 6.0, 7.0, 30.0, 40.0]), 10.0).bound == ""


@pytest.mark.parametrize("at", [0, 1, 2])
@pytest.mark.parametrize("hiccup", [10.5, 67.5, 2000.0])
def test_one_outlier_before_the_crossing_does_not_move_the_capacity(at: int, hiccup: float) -> None:
    # Under the target up to 90% of the peak, over it from 100% on; the crossing is at index 4, so an outlier
    # up to index 2 has a step under the target after it. (One right before the crossing moves the capacity by
    # at most one step: the rule cannot tell it from the start of the rise.)
    clean = [5.0, 5.5, 6.0, 8.0, 20.0, 200.0]
    assert capacity_at(sweep_of(one_outlier(clean, at=at, p99=hiccup)), 10.0) == capacity_at(
        sweep_of(clean), 10.0
    )


@pytest.mark.parametrize(
    ("p99", "change"),
    [(6.0, {"failures": 11}), (6.0, {"achieved": 0.94}), (None, {})],  # 1,000 requests planned at 50%
    ids=["failures over 1%", "served under 95%", "nothing answered"],
)
def test_a_failing_or_short_step_is_over_the_target_whatever_its_p99(
    p99: float | None, change: dict[str, object]
) -> None:
    steps = sweep_of([5.0, p99, 20.0, 20.0, 20.0, 20.0], changes={0.5: change})
    # No interpolation towards a step that is over for what it failed: the capacity is the last good step.
    assert capacity_at(steps, 10.0) == Bounded(250.0)
    # Alone between steps under the target, it is an outlier like any other step over it.
    lone = sweep_of([5.0, p99, 7.0, 8.0, 9.0, 9.5], changes={0.5: change})
    assert capacity_at(lone, 10.0) == Bounded(1250.0, ABOVE)


def test_a_step_just_within_the_failure_and_rate_limits_is_judged_on_its_p99() -> None:
    steps = sweep_of([5.0, 6.0, 7.0, 8.0, 9.0, 9.5], changes={0.5: {"failures": 10, "achieved": 0.95}})
    assert capacity_at(steps, 10.0) == Bounded(1250.0, ABOVE)


def test_no_target_gives_no_capacity() -> None:
    assert math.isnan(capacity_at(sweep_of([5.0] * 6), math.nan).rps)


# ---- knee, overload, recovery -----------------------------------------------------------------------------


def test_the_knee_is_the_last_step_before_p99_passes_three_times_the_first_steps() -> None:
    # 3 x 4 ms = 12 ms: the 90% step (13 ms) takes off, so the knee is the 75% step.
    assert knee_of(sweep_of([4.0, 5.0, 11.9, 13.0, 50.0, 200.0])) == Bounded(750.0)


def test_the_knee_comes_earlier_when_a_step_does_not_serve_its_rate() -> None:
    steps = sweep_of([4.0, 5.0, 6.0, 7.0, 8.0, 200.0], changes={0.9: {"achieved": 0.9}})
    assert knee_of(steps) == Bounded(750.0)


def test_a_knee_before_the_first_step_or_beyond_the_last() -> None:
    assert knee_of(sweep_of([4.0] * 6, changes={0.25: {"achieved": 0.5}})) == Bounded(250.0, BELOW)
    assert knee_of(sweep_of([4.0, 5.0, 6.0, 7.0, 8.0, 11.0])) == Bounded(1250.0, ABOVE)


def test_the_overload_step_as_shares_of_offered_and_of_the_closed_loop_peak() -> None:
    steps = sweep_of(
        [4.0, 5.0, 6.0, 7.0, 8.0, 300.0], changes={1.25: {"achieved": 0.8, "failures": 50, "timeouts": 25}}
    )
    overload = overload_of(steps, peak_rps=PEAK)
    assert overload is not None
    assert overload.share == 1.25 and overload.p99_ms == 300.0
    assert overload.of_offered == pytest.approx(0.8)
    assert overload.of_peak == pytest.approx(1.0), "80% of 125% of the peak"
    assert overload.failure_share == pytest.approx(50 / 2500)
    assert overload.timeout_share == pytest.approx(25 / 2500)


def test_a_sweep_that_never_passes_the_closed_loop_rate_has_no_overload_step() -> None:
    steps = steps_of({"sweep": sweep(peak=PEAK, p99s=[4.0, 5.0], shares=(0.5, 1.0))})
    assert overload_of(steps, peak_rps=PEAK) is None


def recovery_step(slices: list[float | None], **changes: Any) -> SweepStep:
    (made,) = sweep_steps(
        {"sweep": [step(0.5, peak=PEAK, p99=50.0, phase=RECOVERY_PHASE, slices=slices, **changes)]}
    )
    return made


def test_recovery_ends_with_the_last_slice_over_the_target() -> None:
    # Slices of 0.25 s: the second one is the last over 10 ms.
    recovery = recovery_of(recovery_step([50.0, 30.0, 8.0, 5.0, 12.0, 5.0, 5.0, 5.0]), 10.0)
    assert recovery is not None and recovery.seconds == pytest.approx(1.25) and recovery.recovered
    recovery = recovery_of(recovery_step([50.0, 30.0, 8.0, 5.0, 5.0, 5.0, 5.0, 5.0]), 10.0)
    assert recovery is not None and recovery.seconds == pytest.approx(0.5)


def test_recovery_never_over_the_target_takes_no_time() -> None:
    recovery = recovery_of(recovery_step([5.0] * 8, failures=3), 10.0)
    assert recovery is not None and recovery.seconds == 0.0
    assert recovery.failures == 3 and recovery.failure_share == pytest.approx(3 / 1000)


def test_a_step_still_over_the_target_at_its_end_did_not_recover() -> None:
    recovery = recovery_of(recovery_step([50.0, 30.0, 8.0, 5.0, 5.0, 5.0, 5.0, 11.0]), 10.0)
    assert recovery is not None and recovery.seconds is None and not recovery.recovered


def test_a_slice_without_an_answered_request_counts_as_over_the_target() -> None:
    recovery = recovery_of(recovery_step([5.0, 5.0, None, 5.0, 5.0, 5.0, 5.0, 5.0]), 10.0)
    assert recovery is not None and recovery.seconds == pytest.approx(0.75)
    at_the_end = recovery_of(recovery_step([5.0] * 7 + [None]), 10.0)
    assert at_the_end is not None and not at_the_end.recovered, "nothing answered at its end"


def test_no_recovery_without_slices_or_target() -> None:
    assert recovery_of(recovery_step([]), 10.0) is None
    assert recovery_of(recovery_step([5.0] * 8), math.nan) is None
    assert recovery_of(None, 10.0) is None


# ---- one trial ---------------------------------------------------------------------------------------------


def trial_row(**changes: Any) -> dict[str, Any]:
    (row,) = synthetic_rows(apps=("flask",), scenarios=("db",), trials=1)
    steps = sweep(peak=row.rps, p99s=[4.0, 5.0, 6.0, 30.0, 60.0, 300.0], **changes)
    return rows_to_dicts([with_sweep(row, steps)])[0]


def test_a_trial_gathers_its_figures_at_its_own_closed_loop_rate() -> None:
    row = trial_row()
    trial = trial_sweep(row, 20.0)
    assert trial.peak_rps == row["rps"] and trial.trial == row["trial"]
    assert 0.75 * trial.peak_rps < trial.capacity.rps < 0.9 * trial.peak_rps
    assert trial.knee.rps == pytest.approx(0.75 * trial.peak_rps)
    assert trial.overload is not None and trial.overload.p99_ms == 300.0
    assert trial.recovery is not None and trial.recovery.seconds == 0.0
    assert not trial.behind, "the warm-up's generator fell behind, but the warm-up is not reported"


def test_a_trial_is_behind_when_the_generator_fell_behind_in_a_step_its_capacity_was_decided_on() -> None:
    assert trial_sweep(trial_row(changes={0.9: {"behind": True}}), 20.0).behind, "the first step over"
    assert trial_sweep(trial_row(changes={0.25: {"behind": True}}), 20.0).behind
    assert not trial_sweep(trial_row(changes={1.25: {"behind": True}}), 20.0).behind, "after the capacity"


def test_the_sweep_shares_in_the_synthetic_profile_are_the_ones_built() -> None:
    # A guard on the test helper itself: the steps the tests build are the profile's.
    assert [step.share for step in steps_of(trial_row())] == list(SHARES) == PROFILE["sweep"]

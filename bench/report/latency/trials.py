"""The open-loop rate sweep of one trial: its capacity at a latency target, its knee, its overload step and
its recovery after it. Pure functions of a row's saved sweep; the target is bench.report.latency.targets', the
figures of a cell (its trials together) bench.report.latency.cells'.

A sweep's latencies are measured from each request's planned start (coordinated-omission corrected): see
bench.results.SweepStep.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.columns import RPS, SWEEP, TRIAL
from bench.results import RECOVERY_PHASE, SWEEP_PHASE, WARMUP_PHASE, SweepStep, sweep_steps

# A step that served less than this share of its offered rate, or failed more than MAX_FAILURE_SHARE of its
# requests, is over the target whatever its p99 (its p99 counts only the requests that were answered).
MIN_ACHIEVED_SHARE = 0.95
MAX_FAILURE_SHARE = 0.01
KNEE_FACTOR = 3.0  # latency "takes off" at the first step whose p99 exceeds this many times the first step's
OVERLOAD_SHARE = 1.0  # a sweep step above this share of the closed-loop rate is an overload step

# A figure outside the range a sweep measured: below its lowest step, or at or above its highest.
BELOW, ABOVE = "<", "≥"


def steps_of(row: Mapping[Any, Any], phase: str | None = SWEEP_PHASE) -> list[SweepStep]:
    """Return a row's sweep steps of one phase (None: every phase but the warm-up), in the order they ran."""
    steps = sweep_steps({SWEEP: row.get(SWEEP)})
    if phase is None:
        return [step for step in steps if step.phase != WARMUP_PHASE]
    return [step for step in steps if step.phase == phase]


def step_name(step: SweepStep) -> str:
    """Return how the report names a step: its share of the closed-loop rate, or its phase."""
    return f"{step.share:.0%}" if step.phase == SWEEP_PHASE else f"the {step.phase} step"


@dataclass(frozen=True)
class Bounded:
    """A rate from a sweep: exact, or only known to be below its lowest step or at or above its highest."""

    rps: float
    bound: str = ""  # "", BELOW or ABOVE


def served(step: SweepStep) -> bool:
    """Return True when the step served its offered rate and answered (nearly) every request it planned."""
    return (
        step.achieved_rps >= MIN_ACHIEVED_SHARE * step.offered_rps
        and step.failures <= MAX_FAILURE_SHARE * step.requests
        and step.p99_ms is not None
    )


def over_target(step: SweepStep, target_ms: float) -> bool:
    """Return True when the step's corrected p99 is over the target, or it did not serve its offered rate."""
    return not served(step) or step.p99_ms is None or step.p99_ms > target_ms


def first_lasting_over(steps: Sequence[SweepStep], target_ms: float) -> int | None:
    """Return the index of the first step over the target that the next step confirms (also over it), or of
    the last step when it is over; None when the sweep never goes over the target for good.

    One step over the target between steps under it is an outlier, whatever its p99: a short step's p99 rests
    on few requests, and one hiccup of the machine puts it over the target (docs/latency.md, "Capacity")."""
    over = [over_target(step, target_ms) for step in steps]
    return next(
        (
            index
            for index, is_over in enumerate(over)
            if is_over and (index == len(over) - 1 or over[index + 1])
        ),
        None,
    )


def capacity_at(steps: Sequence[SweepStep], target_ms: float) -> Bounded:
    """Return the highest offered rate after which no two consecutive steps are over target_ms: interpolated
    between the last step under it and the first of the two over it (linear in rate, on log p99)."""
    if not steps or not math.isfinite(target_ms):
        return Bounded(math.nan)
    first_over = first_lasting_over(steps, target_ms)
    if first_over is None:
        return Bounded(steps[-1].offered_rps, ABOVE)
    if first_over == 0:
        return Bounded(steps[0].offered_rps, BELOW)
    under, over = steps[first_over - 1], steps[first_over]
    low_p99, high_p99 = under.p99_ms, over.p99_ms
    # A step over the target for what it failed or did not serve has no p99 to interpolate on.
    if not served(over) or low_p99 is None or high_p99 is None or high_p99 <= low_p99:
        return Bounded(under.offered_rps)
    part = (math.log(target_ms) - math.log(low_p99)) / (math.log(high_p99) - math.log(low_p99))
    return Bounded(under.offered_rps + min(max(part, 0.0), 1.0) * (over.offered_rps - under.offered_rps))


def judged_steps(steps: Sequence[SweepStep], target_ms: float) -> list[SweepStep]:
    """Return the steps a capacity was decided on: up to the first lasting step over the target and the step
    that confirmed it, those included."""
    first_over = first_lasting_over(steps, target_ms)
    return list(steps if first_over is None else steps[: first_over + 2])


def knee_of(steps: Sequence[SweepStep]) -> Bounded:
    """Return the knee: the last step before the first whose p99 is over KNEE_FACTOR x the first step's, or
    which served under MIN_ACHIEVED_SHARE of its offered rate (BELOW: the first step did; ABOVE: none did)."""
    if not steps:
        return Bounded(math.nan)
    base = steps[0].p99_ms
    for index, step in enumerate(steps):
        slow = step.p99_ms is None or (base is not None and step.p99_ms > KNEE_FACTOR * base)
        if slow or step.achieved_rps < MIN_ACHIEVED_SHARE * step.offered_rps:
            return Bounded(steps[index - 1].offered_rps) if index else Bounded(step.offered_rps, BELOW)
    return Bounded(steps[-1].offered_rps, ABOVE)


@dataclass(frozen=True)
class Overload:
    """The sweep's step above the closed-loop rate: what it served, its tail, its failures."""

    share: float  # of the closed-loop rate, e.g. 1.25
    offered_rps: float
    achieved_rps: float
    peak_rps: float  # the trial's closed-loop rate
    p99_ms: float  # NaN: no request answered
    requests: int
    failures: int
    timeouts: int
    behind: bool
    p99_lower_bound: bool = False  # failed requests, counted at the timeout, are in its p99

    @property
    def of_offered(self) -> float:
        return self.achieved_rps / self.offered_rps if self.offered_rps > 0 else math.nan

    @property
    def of_peak(self) -> float:
        return self.achieved_rps / self.peak_rps if self.peak_rps > 0 else math.nan

    @property
    def failure_share(self) -> float:
        return self.failures / self.requests if self.requests else math.nan

    @property
    def timeout_share(self) -> float:
        return self.timeouts / self.requests if self.requests else math.nan


def overload_of(steps: Sequence[SweepStep], *, peak_rps: float) -> Overload | None:
    """Return the highest sweep step when it offers more than the closed-loop rate, else None."""
    above = [step for step in steps if step.share > OVERLOAD_SHARE]
    if not above:
        return None
    step = max(above, key=lambda candidate: candidate.share)
    return Overload(
        share=step.share,
        offered_rps=step.offered_rps,
        achieved_rps=step.achieved_rps,
        peak_rps=peak_rps,
        p99_ms=math.nan if step.p99_ms is None else step.p99_ms,
        requests=step.requests,
        failures=step.failures,
        timeouts=step.timeouts,
        behind=step.generator_behind,
        p99_lower_bound=step.p99_lower_bound,
    )


@dataclass(frozen=True)
class Recovery:
    """The step after the overload one: how long until its p99 stayed at or under the target."""

    seconds: float | None  # from the step's start; 0: never over the target; None: still over at its end
    step_s: float
    requests: int
    failures: int
    behind: bool

    @property
    def recovered(self) -> bool:
        return self.seconds is not None

    @property
    def failure_share(self) -> float:
        return self.failures / self.requests if self.requests else math.nan


def recovery_of(step: SweepStep | None, target_ms: float) -> Recovery | None:
    """Return the recovery of a step cut in slices: the end of its last slice over target_ms (a slice without
    an answered request counts as over), None when the last slice is still over; None without slices."""
    if step is None or not step.slice_p99_ms or not math.isfinite(target_ms):
        return None
    over = [p99 is None or p99 > target_ms for p99 in step.slice_p99_ms]
    if over[-1]:
        seconds: float | None = None
    else:
        last_over = max((index for index, is_over in enumerate(over) if is_over), default=-1)
        seconds = (last_over + 1) * step.slice_s
    return Recovery(seconds, step.duration_s, step.requests, step.failures, step.generator_behind)


@dataclass(frozen=True)
class TrialSweep:
    """One trial's open-loop figures."""

    trial: int
    peak_rps: float  # its closed-loop rate, which the sweep's shares are of
    capacity: Bounded
    knee: Bounded
    overload: Overload | None
    recovery: Recovery | None
    behind: bool  # the generator fell behind in a step the capacity was decided on


def trial_sweep(row: Mapping[str, Any], target_ms: float) -> TrialSweep:
    """Return the open-loop figures of one row (a trial) at the target."""
    steps = steps_of(row)
    recovery_steps = steps_of(row, RECOVERY_PHASE)
    judged = judged_steps(steps, target_ms) if math.isfinite(target_ms) else steps
    return TrialSweep(
        trial=int(row[TRIAL]),
        peak_rps=float(row[RPS]),
        capacity=capacity_at(steps, target_ms),
        knee=knee_of(steps),
        overload=overload_of(steps, peak_rps=float(row[RPS])),
        recovery=recovery_of(recovery_steps[0] if recovery_steps else None, target_ms),
        behind=any(step.generator_behind for step in judged),
    )

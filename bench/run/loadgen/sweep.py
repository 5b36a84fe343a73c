"""The open-loop rate sweep's plan and bookkeeping: pure, no Locust (bench.run.loadgen.openloop drives it).

A sweep offers requests at fixed rates, one step after another, the same rates to every app of a scenario
(shared_grid spreads the profile's shares over the apps' closed-loop peaks), and measures every request's
latency from the moment it was *planned* to start: when the server stalls, the requests that should have
been sent meanwhile count their wait (the correction wrk2 and HdrHistogram call coordinated-omission
correction), where closed-loop load simply sends fewer requests and hides it.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

from bench.results import RECOVERY_PHASE, SWEEP_PHASE, UNLOADED_PHASE, WARMUP_PHASE, SweepStep
from bench.run.loadgen.latency import HIGHEST_US, LOWEST_US, latency_summary, new_histogram
from bench.run.validity import GENERATOR_SATURATION

# A request that starts this much after its planned time, although a user was free to send it, started
# late: the generator's own loop fell behind. A step with more than LATE_SHARE of them is generator_behind.
LATE_START_MS = 10.0
LATE_SHARE = 0.01
# The unloaded step runs at this share of the peak, at least MIN_RATE_RPS: the server nearly idle, enough
# requests for a median.
UNLOADED_SHARE = 0.05
MIN_RATE_RPS = 10.0
WARMUP_SHARE = 0.25
# The pool holds the arrivals of POOL_SLACK_S at the highest rate (Little's law: no arrival waits for a
# free user while requests take less than that on average), at least MIN_OPEN_USERS.
POOL_SLACK_S = 0.1
MIN_OPEN_USERS = 16
SLICES_PER_STEP = 8
# How a step's arrivals are spread over it: "poisson" (independent arrivals, exponential gaps at the step's
# mean rate: what many independent clients send, bursts included) or "even" (one every 1/rate seconds).
POISSON, EVEN = "poisson", "even"
ARRIVALS = (POISSON, EVEN)


@dataclass(frozen=True)
class PlannedStep:
    """One step of a sweep as planned: its phase, its rate as a share of the app's own peak, its mean rate,
    its length, and when each of its requests is due (seconds from the step's start)."""

    phase: str
    share: float
    rate_rps: float
    duration_s: float
    offsets_s: tuple[float, ...] = ()  # empty: evenly spaced at rate_rps

    @property
    def planned(self) -> int:
        """Return how many requests the step plans (at least one)."""
        return len(self.offsets_s) if self.offsets_s else max(1, round(self.rate_rps * self.duration_s))

    def due_s(self) -> tuple[float, ...]:
        """Return each planned request's time from the step's start."""
        return self.offsets_s or tuple(number / self.rate_rps for number in range(self.planned))


def arrival_offsets(
    *, rate_rps: float, duration_s: float, arrivals: str, rng: random.Random
) -> tuple[float, ...]:
    """Return the planned start times of one step, in seconds from its start: evenly spaced, or a Poisson
    process (exponential gaps of mean 1/rate_rps from rng) cut at duration_s; at least one request."""
    if arrivals == EVEN:
        return tuple(number / rate_rps for number in range(max(1, round(rate_rps * duration_s))))
    if arrivals != POISSON:
        raise ValueError(f"arrivals must be one of {', '.join(ARRIVALS)}; got {arrivals!r}")
    offsets = []
    offset = rng.expovariate(rate_rps)
    while offset < duration_s:
        offsets.append(offset)
        offset += rng.expovariate(rate_rps)
    return tuple(offsets) or (0.0,)


@dataclass(frozen=True)
class SweepGrid:
    """The offered rates of a sweep, the same for every app it is shared by.

    rates: the rising steps, one per share of the profile; base_rps: the rate the warm-up, unloaded and
    recovery steps are shares of (the slowest app's closed-loop rate, so that they stay under every app's).
    """

    rates: tuple[float, ...]
    base_rps: float


def shared_grid(*, peaks: Sequence[float], shares: Sequence[float]) -> SweepGrid:
    """Return the offered rates for apps of these closed-loop peaks: the shares mapped linearly onto the
    range from the lowest share of the slowest peak to the highest share of the fastest one.

    With one peak (or equal ones) each rate is share x peak, the sweep of one app alone. With a spread, every
    app meets the same rates: the slowest starts at its own lowest share, the fastest ends at its own highest
    (its overload), and the top step overloads every app at least as much as its own highest share would.
    A single share is applied to the slowest peak (no app is offered more than its own rate at that share).
    """
    usable = [peak for peak in peaks if peak > 0 and math.isfinite(peak)]
    if not usable:
        raise ValueError("a sweep needs a closed-loop rate above zero")
    if not shares:
        return SweepGrid(rates=(), base_rps=min(usable))
    slowest, fastest = min(usable), max(usable)
    low_share, high_share = min(shares), max(shares)
    low, high = low_share * slowest, high_share * fastest
    span = high_share - low_share
    rates = tuple(
        low + (share - low_share) / span * (high - low) if span > 0 else share * slowest for share in shares
    )
    return SweepGrid(rates=rates, base_rps=slowest)


def plan_sweep(
    *,
    grid: SweepGrid,
    peak_rps: float,
    step_s: float,
    warmup_s: float,
    recovery_share: float,
) -> list[PlannedStep]:
    """Return the steps of a sweep at the grid's rates: warm-up, unloaded, one step per rate, recovery (no
    arrival times yet: with_arrivals adds them); each step's share is of peak_rps, the app's own peak."""
    if peak_rps <= 0 or grid.base_rps <= 0:
        raise ValueError("a sweep needs a closed-loop rate above zero")

    def planned(phase: str, rate: float, duration_s: float) -> PlannedStep:
        rate = max(MIN_RATE_RPS, rate)
        return PlannedStep(phase, rate / peak_rps, rate, duration_s)

    steps = []
    if warmup_s > 0:
        steps.append(planned(WARMUP_PHASE, WARMUP_SHARE * grid.base_rps, warmup_s))
    steps.append(planned(UNLOADED_PHASE, UNLOADED_SHARE * grid.base_rps, step_s))
    steps.extend(planned(SWEEP_PHASE, rate, step_s) for rate in grid.rates)
    steps.append(planned(RECOVERY_PHASE, recovery_share * grid.base_rps, step_s))
    return steps


def with_arrivals(
    steps: Sequence[PlannedStep], *, arrivals: str = POISSON, seed: int = 0
) -> list[PlannedStep]:
    """Return the steps with their arrival times (arrivals: POISSON from a random.Random(seed), or EVEN)."""
    rng = random.Random(seed)
    return [
        dataclasses.replace(
            step,
            offsets_s=arrival_offsets(
                rate_rps=step.rate_rps, duration_s=step.duration_s, arrivals=arrivals, rng=rng
            ),
        )
        for step in steps
    ]


def pool_size(steps: Sequence[PlannedStep], *, max_users: int) -> int:
    """Return how many users carry a sweep's arrivals."""
    highest = max(step.rate_rps for step in steps)
    return max(MIN_OPEN_USERS, min(max_users, math.ceil(highest * POOL_SLACK_S)))


def is_timeout(exception: BaseException) -> bool:
    """Return True when a failed request was the client's timeout (gevent's, the socket's or the OS's)."""
    return "timeout" in type(exception).__name__.lower() or "timed out" in str(exception).lower()


def _to_us(milliseconds: float) -> int:
    return min(HIGHEST_US, max(LOWEST_US, round(milliseconds * 1000)))


@dataclass
class StepRecorder:
    """What one step measured: corrected and uncorrected latency histograms, counts, per-slice histograms."""

    step: PlannedStep
    # A failed request counts in the latencies at least at this (the client's timeout): to a client a failure
    # is as bad as the slowest answer it would wait for. inf: failures are only counted (older behaviour).
    timeout_ms: float = math.inf
    corrected: HdrHistogram = field(default_factory=new_histogram)
    uncorrected: HdrHistogram = field(default_factory=new_histogram)
    slices: list[HdrHistogram] = field(default_factory=list)
    requests: int = 0
    failures: int = 0
    timeouts: int = 0
    censored: int = 0  # failed requests recorded at the timeout: their true latency is unknown, at least that
    late_starts: int = 0
    waited_for_user: int = 0
    unsent: int = 0  # tickets given up: no task of the scenario sent a request
    completed_in_step: int = 0  # requests of any step that completed during this step's time

    def __post_init__(self) -> None:
        self.slices = [new_histogram() for _ in range(SLICES_PER_STEP)]

    @property
    def slice_s(self) -> float:
        return self.step.duration_s / SLICES_PER_STEP

    def record(
        self,
        *,
        planned_offset_s: float,
        corrected_ms: float,
        uncorrected_ms: float,
        exception: BaseException | None,
    ) -> None:
        """Count one request planned offset_s after the step's start and record its latencies; a failed one's
        at the timeout at least (censored: the answer it never got would have taken longer)."""
        self.requests += 1
        if exception is not None:
            self.failures += 1
            self.timeouts += is_timeout(exception)
            if not math.isfinite(self.timeout_ms):
                return
            self.censored += 1
            corrected_ms = max(corrected_ms, self.timeout_ms)
            uncorrected_ms = max(uncorrected_ms, self.timeout_ms)
        self.corrected.record_value(_to_us(corrected_ms))
        self.uncorrected.record_value(_to_us(uncorrected_ms))
        index = min(SLICES_PER_STEP - 1, max(0, int(planned_offset_s / self.slice_s)))
        self.slices[index].record_value(_to_us(corrected_ms))

    def result(self, *, generator_cpu_util: float | None) -> SweepStep:
        """Return the step's figures."""
        corrected = latency_summary(self.corrected)
        uncorrected = latency_summary(self.uncorrected)
        planned = self.step.planned
        behind = self.late_starts > LATE_SHARE * planned or (
            generator_cpu_util is not None and generator_cpu_util >= GENERATOR_SATURATION
        )
        lower_bound = {
            key: self.censored > 0 and value is not None and value >= self.timeout_ms
            for key, value in corrected.items()
        }
        return SweepStep(
            phase=self.step.phase,
            share=self.step.share,
            offered_rps=self.step.rate_rps,
            duration_s=self.step.duration_s,
            planned=planned,
            requests=self.requests,
            failures=self.failures,
            timeouts=self.timeouts,
            censored=self.censored,
            late_starts=self.late_starts,
            waited_for_user=self.waited_for_user,
            unsent=self.unsent,
            achieved_rps=self.completed_in_step / self.step.duration_s,
            p50_ms=corrected["p50"],
            p99_ms=corrected["p99"],
            p999_ms=corrected["p999"],
            max_ms=corrected["max"],
            p50_lower_bound=lower_bound["p50"],
            p99_lower_bound=lower_bound["p99"],
            p999_lower_bound=lower_bound["p999"],
            uncorrected_p50_ms=uncorrected["p50"],
            uncorrected_p99_ms=uncorrected["p99"],
            generator_cpu_util=generator_cpu_util,
            generator_behind=behind,
            slice_s=self.slice_s,
            slice_p99_ms=[latency_summary(histogram)["p99"] for histogram in self.slices],
        )


def corrected_latency_ms(*, planned_s: float, sent_s: float, response_ms: float) -> float:
    """Return a request's latency from its planned start: the wait to be sent plus its response time."""
    return max(0.0, sent_s - planned_s) * 1000 + response_ms

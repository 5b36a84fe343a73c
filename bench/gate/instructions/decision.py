"""Instructions per request, A against B: windows -> per-request figures -> a verdict, and what grew. Pure.

Each side of a cell gives a few windows of a fixed request count, counted by callgrind with the counters
zeroed around each window (start-up, imports and warm-up never count). Instruction counts barely move from
window to window (0.29% over four windows of 200 Flask /db requests here, where wall-clock windows moved
10-26%), so the rule can ask for a small minimum effect:
- the interval of log(B / A) (from the medians of the windows' log figures and their robust spread) is
  wider than the minimum effect on either side of its estimate -> inconclusive: the spread exceeds the effect;
- else the estimate beyond the minimum effect, and the interval excluding no change -> worse (or better);
- else unchanged: the two sides are the same within the minimum effect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bench.gate.decisions import Verdict
from bench.gate.instructions.dumps import CallgrindDump, FunctionKey


@dataclass(frozen=True)
class Window:
    """One counted window: its requests and the dump of the instructions they cost."""

    requests: int
    dump: CallgrindDump

    @property
    def per_request(self) -> float:
        return self.dump.total / self.requests


@dataclass(frozen=True)
class RatioInterval:
    """log(B / A) of the mean per-request figures, and its interval (infinite when it cannot be bounded)."""

    estimate: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


@dataclass(frozen=True)
class InstructionComparison:
    """One cell judged on instructions per request."""

    verdict: Verdict
    reason: str
    a_per_request: float
    b_per_request: float
    change: float  # B / A - 1
    ci_low: float | None
    ci_high: float | None
    spread: float  # the larger of the two sides' coefficients of variation over windows
    windows: tuple[int, int]


@dataclass(frozen=True)
class GrownFunction:
    """A function whose instructions per request changed from A to B (self counts: its own code only)."""

    key: FunctionKey
    a_self: float
    b_self: float
    a_inclusive: float
    b_inclusive: float

    @property
    def growth(self) -> float:
        return self.b_self - self.a_self


def _spread(values: Sequence[float]) -> float:
    """Return the windows' robust coefficient of variation (NaN below two windows)."""
    if len(values) < 2:
        return math.nan
    array = np.asarray(values, dtype=float)
    return _robust_scale(array) / float(np.median(array))


def _robust_scale(values: np.ndarray) -> float:
    """Return the median absolute deviation scaled to a normal sample's standard deviation."""
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def ratio_interval(a: Sequence[float], b: Sequence[float], *, confidence: float) -> RatioInterval:
    """Return log(median B / median A) and its interval, from the windows' robust spread.

    Medians and median absolute deviations, not means and standard deviations: now and then a window holds
    a collection of the garbage collector's oldest generation, a quarter more instructions at once (one
    Django /db window in three of 50 requests here); one such window per side moves neither.
    """
    from scipy import stats

    log_a, log_b = np.log(np.asarray(a, dtype=float)), np.log(np.asarray(b, dtype=float))
    estimate = float(np.median(log_b) - np.median(log_a))
    if log_a.size < 2 or log_b.size < 2:
        return RatioInterval(estimate=estimate, low=-math.inf, high=math.inf)
    # The median's standard error is sqrt(pi / 2) times the mean's for normal data.
    standard_error = math.sqrt(math.pi / 2) * math.sqrt(
        _robust_scale(log_a) ** 2 / log_a.size + _robust_scale(log_b) ** 2 / log_b.size
    )
    quantile = float(stats.t.ppf(1 - (1 - confidence) / 2, log_a.size + log_b.size - 2))
    return RatioInterval(
        estimate=estimate, low=estimate - quantile * standard_error, high=estimate + quantile * standard_error
    )


def decide_instructions(interval: RatioInterval, *, min_effect: float) -> tuple[Verdict, str]:
    """Return the verdict on an interval of log(B / A) instructions per request, and why in words."""
    threshold = math.log1p(min_effect)
    effect = f"{min_effect:.1%}"
    if not math.isfinite(interval.half_width):
        return Verdict.INCONCLUSIVE, "too few windows to bound the change"
    if interval.half_width > threshold:
        return Verdict.INCONCLUSIVE, (
            f"the windows' spread (±{math.expm1(interval.half_width):.2%}) is larger than the "
            f"{effect} minimum effect"
        )
    if interval.estimate >= threshold and interval.low > 0:
        return Verdict.WORSE, f"more instructions per request, beyond the {effect} minimum effect"
    if interval.estimate <= -threshold and interval.high < 0:
        return Verdict.BETTER, f"fewer instructions per request, beyond the {effect} minimum effect"
    return Verdict.UNCHANGED, f"the same within the {effect} minimum effect"


def compare_instructions(
    a: Sequence[float], b: Sequence[float], *, min_effect: float, confidence: float
) -> InstructionComparison:
    """Return the verdict on one cell from each side's instructions per request, window by window."""
    interval = ratio_interval(a, b, confidence=confidence)
    verdict, reason = decide_instructions(interval, min_effect=min_effect)
    bounded = math.isfinite(interval.half_width)
    spreads = [s for s in (_spread(a), _spread(b)) if not math.isnan(s)]
    return InstructionComparison(
        verdict=verdict,
        reason=reason,
        a_per_request=float(np.median(a)),
        b_per_request=float(np.median(b)),
        change=math.expm1(interval.estimate),
        ci_low=math.expm1(interval.low) if bounded else None,
        ci_high=math.expm1(interval.high) if bounded else None,
        spread=max(spreads) if spreads else math.nan,
        windows=(len(a), len(b)),
    )


def mean_per_request(windows: Sequence[Window]) -> dict[FunctionKey, tuple[float, float]]:
    """Return each function's mean (self, inclusive) instructions per request over the windows."""
    totals: dict[FunctionKey, list[float]] = {}
    for window in windows:
        for key, cost in window.dump.functions.items():
            sums = totals.setdefault(key, [0.0, 0.0])
            sums[0] += cost.self_instructions / window.requests
            sums[1] += cost.inclusive_instructions / window.requests
    count = max(1, len(windows))
    return {key: (sums[0] / count, sums[1] / count) for key, sums in totals.items()}


def grown_functions(
    a: Mapping[FunctionKey, tuple[float, float]],
    b: Mapping[FunctionKey, tuple[float, float]],
    *,
    top: int,
) -> list[GrownFunction]:
    """Return the functions whose own instructions per request grew most from A to B, largest first."""
    grown = [
        GrownFunction(
            key=key,
            a_self=a.get(key, (0.0, 0.0))[0],
            b_self=b.get(key, (0.0, 0.0))[0],
            a_inclusive=a.get(key, (0.0, 0.0))[1],
            b_inclusive=b.get(key, (0.0, 0.0))[1],
        )
        for key in set(a) | set(b)
    ]
    grown = [function for function in grown if function.growth > 0]
    grown.sort(key=lambda function: (-function.growth, function.key))
    return grown[:top]

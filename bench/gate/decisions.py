"""Regression decisions: from per-cell samples to a verdict per cell and metric. Pure.

Two ways to get samples, one set of rules:
- against a stored baseline: the trials of a cell in the baseline and in the current run are two
  independent samples (`compare_samples`);
- A/B: the two trees ran interleaved, trial i of A next to trial i of B, so each pair gives one ratio B / A
  in which slow drift of the machine cancels out (`compare_pairs`).

The rule, for each cell and metric, on the interval of the change in the bad direction ("slowdown"):
- too few valid samples, or a coefficient of variation above `max_cv` -> inconclusive;
- the interval excludes no change and reaches the minimum effect -> worse (or better, mirrored);
- the interval excludes no change but stays below the minimum effect -> unchanged (a real, small change);
- the interval holds no change: unchanged when it excludes a slowdown as large as the minimum effect,
  inconclusive when it does not (the data cannot vouch that nothing regressed: never a silent pass).
A/B pairs too noisy for the CV rule are still judged when their signs agree: the sign test's interval of the
median ratio (order statistics) then takes the t interval's place, so that a unanimous signal (all 8 pairs
slower, ratios 1.08-1.42, CV 10.5%) is never vetoed by its spread.
Every gated comparison gets the same confidence, 1 - 2 * false_alarm_rate / (number of gated comparisons)
(Bonferroni over the one-sided "worse" error), so that the whole check raises a false alarm with probability
at most false_alarm_rate when nothing changed. Flagged trials (generator-bound, errors) never enter a sample;
they are reported apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from bench.gate.intervals import ShiftInterval, independent_shift, paired_shift, sign_interval
from bench.gate.samples import CellKey, CellPairs, CellSamples
from bench.gate.settings import METRICS, GateSettings, Metric
from bench.noise import coefficient_of_variation


class Verdict(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    UNCHANGED = "unchanged"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class MetricComparison:
    """One cell and metric judged: medians, change (current / baseline - 1), its interval, the verdict."""

    cell: CellKey
    metric: str
    gating: bool
    verdict: Verdict
    reason: str
    baseline_median: float | None
    current_median: float | None
    samples: tuple[int, int]  # valid baseline and current trials; in A/B both are the pair count
    change: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    p_value: float | None = None
    cv: float | None = None  # the largest of the sides' CVs (the ratios' CV in A/B)


@dataclass(frozen=True)
class FlaggedCell:
    """A cell with trials left out on one side: generator-bound or errors."""

    cell: CellKey
    side: str
    trials: int
    generator_bound: int
    errors: tuple[str, ...]
    compared: bool  # some valid trials were left to compare
    new_errors: bool  # errors on the current side where the baseline side had none


@dataclass(frozen=True)
class GateReport:
    """Everything the check decided, ready for a table or JSON."""

    mode: str  # "baseline" or "ab"
    baseline_label: str
    current_label: str
    settings: GateSettings
    confidence: float
    comparisons: tuple[MetricComparison, ...]
    flagged: tuple[FlaggedCell, ...]
    missing: tuple[tuple[CellKey, str], ...]  # (cell, the side that has it) for cells on one side only

    @property
    def regressions(self) -> list[MetricComparison]:
        return [c for c in self.comparisons if c.gating and c.verdict is Verdict.WORSE]

    @property
    def inconclusive(self) -> list[MetricComparison]:
        return [c for c in self.comparisons if c.gating and c.verdict is Verdict.INCONCLUSIVE]

    @property
    def new_errors(self) -> list[FlaggedCell]:
        return [f for f in self.flagged if f.new_errors]

    @property
    def judged(self) -> bool:
        """Return True when at least one gated comparison reached a conclusive verdict."""
        return any(c.gating and c.verdict is not Verdict.INCONCLUSIVE for c in self.comparisons)

    @property
    def failed(self) -> bool:
        settings = self.settings
        return bool(
            self.regressions
            or (settings.fail_on_new_errors and self.new_errors)
            or (settings.fail_on_inconclusive and self.inconclusive)
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data (infinite or missing numbers become null)."""
        data: dict[str, Any] = _jsonable(
            {
                "mode": self.mode,
                "baseline": self.baseline_label,
                "current": self.current_label,
                "failed": self.failed,
                "judged": self.judged,
                "confidence": self.confidence,
                "settings": asdict(self.settings),
                "regressions": len(self.regressions),
                "inconclusive": len(self.inconclusive),
                "new_errors": len(self.new_errors),
                "comparisons": [asdict(c) for c in self.comparisons],
                "flagged": [asdict(f) for f in self.flagged],
                "missing": [{"cell": asdict(cell), "only_in": side} for cell, side in self.missing],
            }
        )
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def slowdown_interval(interval: ShiftInterval, metric: Metric) -> tuple[float, float]:
    """Return the interval of log(slowdown): the change in the direction that is worse for the metric."""
    if metric.higher_is_better:
        return -interval.high, -interval.low
    return interval.low, interval.high


def decide(interval: ShiftInterval, *, metric: Metric, min_effect: float) -> tuple[Verdict, str]:
    """Return the verdict on an interval of log(current / baseline), and why in words."""
    if not interval.bounded:
        return Verdict.INCONCLUSIVE, "too few samples to bound the change at this confidence"
    threshold = math.log1p(min_effect)
    low, high = slowdown_interval(interval, metric)
    effect = f"{min_effect:.0%}"
    if low > 0:
        if high >= threshold:
            return Verdict.WORSE, f"slower, and the interval reaches the {effect} minimum effect"
        return Verdict.UNCHANGED, f"slower, but surely by less than {effect}"
    if high < 0:
        if low <= -threshold:
            return Verdict.BETTER, f"faster, and the interval reaches {effect}"
        return Verdict.UNCHANGED, f"faster, but surely by less than {effect}"
    if high >= threshold:
        return Verdict.INCONCLUSIVE, f"no significant change, but a {effect} slowdown is not excluded"
    return Verdict.UNCHANGED, f"a {effect} slowdown is excluded"


def per_comparison_confidence(settings: GateSettings, gated_comparisons: int) -> float:
    """Return the confidence of each interval: Bonferroni over the gated comparisons' one-sided errors."""
    if settings.confidence is not None:
        return settings.confidence
    return 1 - 2 * settings.false_alarm_rate / max(1, gated_comparisons)


@dataclass(frozen=True)
class _Question:
    """One cell and metric to judge; problem says why it cannot be (too few samples, too noisy)."""

    cell: CellKey
    metric: str
    gating: bool
    baseline: tuple[float, ...]
    current: tuple[float, ...]  # in A/B, current[i] pairs with baseline[i]
    paired: bool
    cv: float | None
    problem: str = ""
    noisy: bool = False  # the problem is the CV alone: the sign test may still judge paired data


def _question(
    cell: CellKey,
    metric: str,
    *,
    gating: bool,
    baseline: Sequence[float],
    current: Sequence[float],
    paired: bool,
    settings: GateSettings,
) -> _Question:
    if paired:
        cv = coefficient_of_variation([b / a for a, b in zip(baseline, current, strict=True)])
        too_few = len(baseline) < settings.min_pairs
        count = f"{len(baseline)} valid pairs (need {settings.min_pairs})"
        noise = f"CV of the B/A ratios {cv:.1%}"
    else:
        cv = max(coefficient_of_variation(baseline), coefficient_of_variation(current))
        too_few = min(len(baseline), len(current)) < settings.min_samples
        count = f"{len(baseline)} and {len(current)} valid trials (need {settings.min_samples} each)"
        noise = f"CV {cv:.1%}"
    problem = ""
    noisy = False
    if too_few:
        problem = f"too few samples: {count}"
    elif cv > settings.max_cv:  # NaN (a single value) compares False and was caught above
        problem = f"too noisy: {noise} above {settings.max_cv:.0%}"
        noisy = True
    return _Question(
        cell=cell,
        metric=metric,
        gating=gating,
        baseline=tuple(baseline),
        current=tuple(current),
        paired=paired,
        cv=None if math.isnan(cv) else cv,
        problem=problem,
        noisy=noisy,
    )


def _median(values: Sequence[float]) -> float | None:
    return float(np.median(values)) if values else None


def _interval(question: _Question, *, settings: GateSettings, confidence: float) -> ShiftInterval:
    if question.paired:
        return paired_shift(
            [math.log(b / a) for a, b in zip(question.baseline, question.current, strict=True)],
            method=settings.paired_method,
            confidence=confidence,
            resamples=settings.resamples,
            seed=settings.seed,
        )
    return independent_shift(
        [math.log(value) for value in question.current],
        [math.log(value) for value in question.baseline],
        method=settings.independent_method,
        confidence=confidence,
        resamples=settings.resamples,
        seed=settings.seed,
    )


def _rough_change(question: _Question) -> float | None:
    """Return the change a judged comparison would start from, shown (never judged) when it cannot be."""
    if question.paired:
        ratios = [b / a for a, b in zip(question.baseline, question.current, strict=True)]
        return float(np.median(ratios)) - 1 if ratios else None
    before, now = _median(question.baseline), _median(question.current)
    return now / before - 1 if before and now else None


def _sign_test(question: _Question, *, confidence: float) -> ShiftInterval | None:
    """Return the sign test's interval of the median log ratio of noisy pairs when it excludes no change."""
    if not (question.paired and question.noisy):
        return None
    logs = [math.log(b / a) for a, b in zip(question.baseline, question.current, strict=True)]
    low, high = sign_interval(logs, confidence=confidence)
    if not (low > 0 or high < 0):
        return None
    return ShiftInterval(estimate=float(np.median(logs)), low=low, high=high)


def _answer(question: _Question, *, settings: GateSettings, confidence: float) -> MetricComparison:
    interval = None if question.problem else _interval(question, settings=settings, confidence=confidence)
    signs = _sign_test(question, confidence=confidence)
    if signs is not None:
        interval = signs
        verdict, reason = decide(signs, metric=METRICS[question.metric], min_effect=settings.min_effect)
        reason = f"{reason} (sign test: the pairs agree; {question.problem})"
    elif interval is None:
        verdict, reason = Verdict.INCONCLUSIVE, question.problem
    else:
        verdict, reason = decide(interval, metric=METRICS[question.metric], min_effect=settings.min_effect)
    return MetricComparison(
        cell=question.cell,
        metric=question.metric,
        gating=question.gating,
        verdict=verdict,
        reason=reason,
        baseline_median=_median(question.baseline),
        current_median=_median(question.current),
        samples=(len(question.baseline), len(question.current)),
        change=_rough_change(question) if interval is None else math.expm1(interval.estimate),
        ci_low=None if interval is None or not interval.bounded else math.expm1(interval.low),
        ci_high=None if interval is None or not interval.bounded else math.expm1(interval.high),
        confidence=None if interval is None else confidence,
        p_value=None if interval is None else interval.p_value,
        cv=question.cv,
    )


def _flags(
    cell: CellKey, *, baseline: CellSamples | None, current: CellSamples | None, labels: tuple[str, str]
) -> list[FlaggedCell]:
    flagged = []
    for side, samples, other in ((labels[0], baseline, current), (labels[1], current, baseline)):
        if samples is None or not samples.flagged:
            continue
        flagged.append(
            FlaggedCell(
                cell=cell,
                side=side,
                trials=samples.trials,
                generator_bound=samples.generator_bound,
                errors=samples.errors,
                compared=any(samples.values.values()),
                new_errors=side == labels[1] and bool(samples.errors) and not (other and other.errors),
            )
        )
    return flagged


def _report(
    questions: Sequence[_Question],
    *,
    mode: str,
    settings: GateSettings,
    labels: tuple[str, str],
    flagged: Sequence[FlaggedCell],
    missing: Sequence[tuple[CellKey, str]],
) -> GateReport:
    confidence = per_comparison_confidence(
        settings, sum(q.gating and (not q.problem or q.noisy) for q in questions)
    )
    return GateReport(
        mode=mode,
        baseline_label=labels[0],
        current_label=labels[1],
        settings=settings,
        confidence=confidence,
        comparisons=tuple(_answer(q, settings=settings, confidence=confidence) for q in questions),
        flagged=tuple(flagged),
        missing=tuple(missing),
    )


def compare_samples(
    baseline: Mapping[CellKey, CellSamples],
    current: Mapping[CellKey, CellSamples],
    *,
    settings: GateSettings,
    labels: tuple[str, str] = ("baseline", "current"),
) -> GateReport:
    """Return the verdicts of a run against a baseline, cell by cell and metric by metric."""
    gated = settings.gated(paired=False)
    questions: list[_Question] = []
    flagged: list[FlaggedCell] = []
    missing: list[tuple[CellKey, str]] = []
    for cell in sorted(set(baseline) | set(current)):
        before, now = baseline.get(cell), current.get(cell)
        flagged += _flags(cell, baseline=before, current=now, labels=labels)
        if before is None or now is None:
            missing.append((cell, labels[0] if now is None else labels[1]))
            continue
        for metric in METRICS:
            before_values, now_values = before.values.get(metric, ()), now.values.get(metric, ())
            if not before_values or not now_values:
                continue  # nothing valid on a side: the cell is among the flagged (or lacks the metric)
            questions.append(
                _question(
                    cell,
                    metric,
                    gating=metric in gated,
                    baseline=before_values,
                    current=now_values,
                    paired=False,
                    settings=settings,
                )
            )
    return _report(
        questions, mode="baseline", settings=settings, labels=labels, flagged=flagged, missing=missing
    )


def compare_pairs(
    cells: Mapping[CellKey, CellPairs], *, settings: GateSettings, labels: tuple[str, str] = ("A", "B")
) -> GateReport:
    """Return the verdicts of an A/B run: per cell and metric, the interval of the B / A ratio over pairs."""
    gated = settings.gated(paired=True)
    questions: list[_Question] = []
    flagged: list[FlaggedCell] = []
    missing: list[tuple[CellKey, str]] = []
    for cell, both in sorted(cells.items()):
        flagged += _flags(cell, baseline=both.a, current=both.b, labels=labels)
        if not both.a.trials or not both.b.trials:
            missing.append((cell, labels[0] if both.a.trials else labels[1]))
            continue
        for metric in METRICS:
            pairs = both.pairs.get(metric, ())
            if not pairs and (both.a.flagged or both.b.flagged):
                continue  # every pair had a flagged side: the cell is among the flagged
            questions.append(
                _question(
                    cell,
                    metric,
                    gating=metric in gated,
                    baseline=[a for a, _ in pairs],
                    current=[b for _, b in pairs],
                    paired=True,
                    settings=settings,
                )
            )
    return _report(questions, mode="ab", settings=settings, labels=labels, flagged=flagged, missing=missing)

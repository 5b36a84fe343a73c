"""bench/gate/decisions.py on synthetic samples: a clear regression, no change, too few samples, too noisy,
flagged cells, improvements, paired A/B data with drift, and the decision rule's edges."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from bench.columns import CPU_MS_PER_REQUEST, RPS
from bench.gate.decisions import (
    GateReport,
    MetricComparison,
    Verdict,
    compare_pairs,
    compare_samples,
    decide,
    per_comparison_confidence,
)
from bench.gate.intervals import IndependentMethod, ShiftInterval
from bench.gate.samples import CellKey, collect_pairs, collect_samples
from bench.gate.settings import METRICS, GateSettings
from tests.bench.synthetic_gate import ab_rows, dicts, noisy, trial_rows

SETTINGS = GateSettings()
CELL = CellKey(app="fastapi", server="uvicorn", scenario="json", users=32)


def judge(
    baseline_cpu: list[float],
    current_cpu: list[float],
    settings: GateSettings = SETTINGS,
    **rows_args: Any,
) -> GateReport:
    baseline = collect_samples(dicts(trial_rows(cpu_ms=baseline_cpu, **rows_args)), metrics=METRICS)
    current = collect_samples(dicts(trial_rows(cpu_ms=current_cpu, **rows_args)), metrics=METRICS)
    return compare_samples(baseline, current, settings=settings)


def only(report: GateReport, metric: str = CPU_MS_PER_REQUEST) -> MetricComparison:
    found = [c for c in report.comparisons if c.metric == metric]
    assert len(found) == 1, found
    return found[0]


def test_a_clear_regression_fails_the_check() -> None:
    report = judge(noisy(0.5, 6, seed=1), noisy(0.6, 6, seed=2))  # 20% more CPU per request
    comparison = only(report)
    assert comparison.verdict is Verdict.WORSE
    assert comparison.change == pytest.approx(0.2, abs=0.03)
    assert comparison.ci_low is not None and comparison.ci_low > 0
    assert report.failed and report.regressions == [comparison]


def test_no_change_passes_and_is_judged() -> None:
    report = judge(noisy(0.5, 6, seed=1), noisy(0.5, 6, seed=2))
    assert only(report).verdict is Verdict.UNCHANGED
    assert not report.failed and report.judged


def test_an_improvement_is_better_and_passes() -> None:
    report = judge(noisy(0.5, 6, seed=1), noisy(0.4, 6, seed=2))
    assert only(report).verdict is Verdict.BETTER
    assert only(report, RPS).verdict is Verdict.BETTER  # rps rose by 25%: better too, in its own direction
    assert not report.failed


def test_too_few_samples_is_inconclusive_never_a_pass() -> None:
    report = judge([0.5, 0.51], [0.9, 0.91])  # a huge change, but only two trials a side
    comparison = only(report)
    assert comparison.verdict is Verdict.INCONCLUSIVE
    assert "too few samples" in comparison.reason
    assert not report.judged and report.inconclusive == [comparison]


def test_too_noisy_is_inconclusive() -> None:
    report = judge(noisy(0.5, 6, cv=0.25, seed=1), noisy(0.5, 6, cv=0.25, seed=2))
    comparison = only(report)
    assert comparison.verdict is Verdict.INCONCLUSIVE
    assert "too noisy" in comparison.reason
    assert comparison.cv is not None and comparison.cv > SETTINGS.max_cv


def test_strict_mode_fails_on_inconclusive() -> None:
    report = judge([0.5, 0.51], [0.5, 0.51], settings=GateSettings(fail_on_inconclusive=True))
    assert report.failed


def test_samples_too_few_for_the_confidence_are_inconclusive() -> None:
    # 3 + 3 trials pass the sample count, but no exact Mann-Whitney interval reaches 95% with them.
    report = judge([0.5, 0.51, 0.49], [0.6, 0.61, 0.59], settings=GateSettings(confidence=0.95))
    assert only(report).verdict is Verdict.INCONCLUSIVE
    assert "bound" in only(report).reason


def test_a_small_real_change_below_the_minimum_effect_is_unchanged() -> None:
    baseline = [0.5 * (1 + d) for d in (-0.002, 0.0, 0.002, -0.001, 0.001, 0.0, 0.0015, -0.0015)]
    report = judge(baseline, [value * 1.04 for value in baseline])  # +4%, measured very precisely
    comparison = only(report)
    assert comparison.verdict is Verdict.UNCHANGED
    assert "less than 10%" in comparison.reason
    assert not report.failed


def test_a_smaller_minimum_effect_catches_it() -> None:
    baseline = [0.5 * (1 + d) for d in (-0.002, 0.0, 0.002, -0.001, 0.001, 0.0, 0.0015, -0.0015)]
    report = judge(baseline, [value * 1.04 for value in baseline], settings=GateSettings(min_effect=0.03))
    assert only(report).verdict is Verdict.WORSE


def test_throughput_does_not_gate_against_a_baseline() -> None:
    # CPU per request unchanged, throughput 30% down (a slow stretch of the machine): reported, not failed.
    cpu = noisy(0.5, 6, seed=1)
    baseline = collect_samples(dicts(trial_rows(cpu_ms=cpu, rps=noisy(2000, 6, seed=3))), metrics=METRICS)
    current = collect_samples(dicts(trial_rows(cpu_ms=cpu, rps=noisy(1400, 6, seed=4))), metrics=METRICS)
    report = compare_samples(baseline, current, settings=SETTINGS)
    rps = only(report, RPS)
    assert rps.verdict is Verdict.WORSE and not rps.gating
    assert not report.failed


def test_generator_bound_cells_are_reported_apart() -> None:
    report = judge(noisy(0.5, 5, seed=1), noisy(0.5, 5, seed=2), generator_bound=(1, 2, 3, 4, 5))
    assert report.comparisons == ()
    assert [(f.side, f.generator_bound, f.compared) for f in report.flagged] == [
        ("baseline", 5, False),
        ("current", 5, False),
    ]
    assert not report.failed and not report.judged


def test_flagged_trials_leave_the_sample_but_the_rest_is_compared() -> None:
    baseline = collect_samples(dicts(trial_rows(cpu_ms=noisy(0.5, 6, seed=1))), metrics=METRICS)
    current_rows = trial_rows(cpu_ms=[*noisy(0.5, 5, seed=2), 5.0], generator_bound=(6,))
    report = compare_samples(
        baseline, collect_samples(dicts(current_rows), metrics=METRICS), settings=SETTINGS
    )
    assert only(report).samples == (6, 5)  # the 5.0 outlier was generator-bound: not in the sample
    assert only(report).verdict is Verdict.UNCHANGED
    assert report.flagged[0].compared


def test_new_errors_fail_the_check_old_ones_do_not() -> None:
    baseline = collect_samples(dicts(trial_rows(cpu_ms=noisy(0.5, 5, seed=1))), metrics=METRICS)
    broken = collect_samples(
        dicts(trial_rows(cpu_ms=noisy(0.5, 5, seed=2), errors=(1, 2, 3, 4, 5))), metrics=METRICS
    )
    report = compare_samples(baseline, broken, settings=SETTINGS)
    assert report.failed and len(report.new_errors) == 1
    assert report.new_errors[0].errors[0].startswith("server died")
    both_broken = compare_samples(broken, broken, settings=SETTINGS)
    assert not both_broken.failed and not both_broken.new_errors
    lenient = compare_samples(baseline, broken, settings=GateSettings(fail_on_new_errors=False))
    assert not lenient.failed


def test_cells_on_one_side_only_are_listed_as_missing() -> None:
    baseline = collect_samples(dicts(trial_rows(cpu_ms=noisy(0.5, 5), scenario="db")), metrics=METRICS)
    current = collect_samples(dicts(trial_rows(cpu_ms=noisy(0.5, 5), scenario="json")), metrics=METRICS)
    report = compare_samples(baseline, current, settings=SETTINGS)
    assert sorted((cell.scenario, side) for cell, side in report.missing) == [
        ("db", "baseline"),
        ("json", "current"),
    ]
    assert report.comparisons == ()


def test_ab_pairs_cancel_drift_that_drowns_independent_samples() -> None:
    # The machine slows down by up to 40% over the rounds; both sides of a pair see the same speed.
    drift = [1.0, 1.4, 1.1, 1.3, 1.0, 1.2, 1.35, 1.05]
    a = [
        0.5 * d * (1 + 0.01 * z)
        for d, z in zip(drift, (0.3, -1.0, 0.5, 1.2, -0.4, 0.8, -1.1, 0.1), strict=True)
    ]
    b = [
        value * 1.15 * (1 + 0.01 * z)
        for value, z in zip(a, (0.5, -0.2, 0.9, -0.7, 0.1, -1.0, 0.4, 0.2), strict=True)
    ]
    rows = dicts(ab_rows(a_cpu_ms=a, b_cpu_ms=b))
    paired = compare_pairs(collect_pairs(rows, metrics=METRICS), settings=SETTINGS)
    assert only(paired).verdict is Verdict.WORSE
    assert only(paired).change == pytest.approx(0.15, abs=0.02)
    assert only(paired, RPS).verdict is Verdict.WORSE and not only(paired, RPS).gating  # shown, not gating
    assert paired.failed and paired.mode == "ab"
    independent = compare_samples(
        collect_samples(dicts(trial_rows(cpu_ms=a)), metrics=METRICS),
        collect_samples(dicts(trial_rows(cpu_ms=b)), metrics=METRICS),
        settings=SETTINGS,
    )
    assert only(independent).verdict is Verdict.INCONCLUSIVE  # the drift makes both sides too noisy


def test_ab_without_change_is_unchanged() -> None:
    drift = [1.0, 1.4, 1.1, 1.3, 1.0, 1.2]
    a = [0.5 * d for d in drift]
    b = [value * (1 + 0.01 * z) for value, z in zip(a, (0.5, -0.2, 0.9, -0.7, 0.1, -1.0), strict=True)]
    report = compare_pairs(
        collect_pairs(dicts(ab_rows(a_cpu_ms=a, b_cpu_ms=b)), metrics=METRICS), settings=SETTINGS
    )
    assert {c.verdict for c in report.comparisons} == {Verdict.UNCHANGED}
    assert not report.failed and report.judged


def test_ab_pairs_with_a_flagged_side_are_dropped() -> None:
    a = noisy(0.5, 6, seed=1)
    rows = [
        *trial_rows(cpu_ms=a, variant="A"),
        *trial_rows(cpu_ms=[v * 1.2 for v in a], variant="B", errors=(2, 4)),
    ]
    report = compare_pairs(collect_pairs(dicts(rows), metrics=METRICS), settings=SETTINGS)
    comparison = only(report)
    assert comparison.samples == (4, 4)
    assert (
        comparison.verdict is Verdict.INCONCLUSIVE and "too few samples: 4 valid pairs" in comparison.reason
    )
    assert [f.side for f in report.flagged] == ["B"] and report.new_errors
    assert report.failed  # B broke where A did not


def test_ab_noisy_pairs_are_inconclusive() -> None:
    a = [0.5] * 6
    b = [0.5 * r for r in (1.3, 0.8, 1.25, 0.85, 1.2, 0.9)]
    report = compare_pairs(
        collect_pairs(dicts(ab_rows(a_cpu_ms=a, b_cpu_ms=b)), metrics=METRICS), settings=SETTINGS
    )
    assert "too noisy" in only(report).reason


@pytest.mark.parametrize(
    ("low", "high", "verdict"),
    [
        (0.02, 0.20, Verdict.WORSE),  # slower, and possibly by 10% or more
        (0.02, 0.05, Verdict.UNCHANGED),  # slower, surely by less than 10%
        (-0.03, 0.05, Verdict.UNCHANGED),  # no change, and a 10% slowdown excluded
        (-0.03, 0.15, Verdict.INCONCLUSIVE),  # no change shown, but a 10% slowdown not excluded
        (-0.20, -0.02, Verdict.BETTER),
        (-0.05, -0.02, Verdict.UNCHANGED),
        (-math.inf, math.inf, Verdict.INCONCLUSIVE),
    ],
)
def test_decision_rule_on_intervals(low: float, high: float, verdict: Verdict) -> None:
    interval = ShiftInterval(estimate=(low + high) / 2, low=low, high=high)
    assert decide(interval, metric=METRICS[CPU_MS_PER_REQUEST], min_effect=0.10)[0] is verdict


def test_decision_rule_mirrors_for_throughput() -> None:
    falling = ShiftInterval(estimate=-0.15, low=-0.20, high=-0.05)  # rps down 5-20%
    assert decide(falling, metric=METRICS[RPS], min_effect=0.10)[0] is Verdict.WORSE
    assert decide(falling, metric=METRICS[CPU_MS_PER_REQUEST], min_effect=0.10)[0] is Verdict.BETTER


def test_bonferroni_confidence_grows_with_the_number_of_comparisons() -> None:
    assert per_comparison_confidence(SETTINGS, 1) == pytest.approx(0.90)
    assert per_comparison_confidence(SETTINGS, 10) == pytest.approx(0.99)
    assert per_comparison_confidence(GateSettings(confidence=0.95), 10) == 0.95


def test_report_json_has_no_infinities() -> None:
    report = judge([0.5, 0.51, 0.49], [0.6, 0.61, 0.59], settings=GateSettings(confidence=0.95))
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["comparisons"][0]["verdict"] == "inconclusive"
    assert data["comparisons"][0]["ci_low"] is None


def test_bootstrap_method_is_deterministic() -> None:
    settings = GateSettings(independent_method=IndependentMethod.BOOTSTRAP)
    first = judge(noisy(0.5, 6, seed=1), noisy(0.6, 6, seed=2), settings=settings)
    second = judge(noisy(0.5, 6, seed=1), noisy(0.6, 6, seed=2), settings=settings)
    assert first == second and only(first).verdict is Verdict.WORSE


def judge_ratios(ratios: list[float]) -> MetricComparison:
    """Judge an A/B cell whose pairs have these B/A ratios of CPU per request (A at 1 ms)."""
    rows = ab_rows(a_cpu_ms=[1.0] * len(ratios), b_cpu_ms=ratios)
    report = compare_pairs(collect_pairs(dicts(rows), metrics=METRICS), settings=SETTINGS)
    return next(c for c in report.comparisons if c.metric == CPU_MS_PER_REQUEST)


def test_a_unanimous_slowdown_is_not_vetoed_by_its_cv() -> None:
    # Issue 24: all 8 pairs slower (1.08-1.42), CV of the ratios above 10%: it was inconclusive.
    comparison = judge_ratios([1.08, 1.42, 1.11, 1.35, 1.09, 1.30, 1.12, 1.38])
    assert (comparison.cv or 0) > SETTINGS.max_cv
    assert comparison.verdict is Verdict.WORSE
    assert "sign test" in comparison.reason


def test_a_unanimous_twenty_percent_speed_up_is_better_despite_the_noise() -> None:
    comparison = judge_ratios([0.62, 0.95, 0.70, 0.90, 0.66, 0.93, 0.71, 0.85])
    assert comparison.verdict is Verdict.BETTER


def test_noisy_pairs_that_disagree_stay_inconclusive() -> None:
    comparison = judge_ratios([0.79, 1.60, 1.05, 0.90, 1.30, 0.85, 1.20, 1.10])
    assert comparison.verdict is Verdict.INCONCLUSIVE
    assert "too noisy" in comparison.reason


def test_a_unanimous_but_small_change_is_unchanged() -> None:
    # Every pair slower, but surely by less than the 10% minimum effect: the sign test's interval says so.
    comparison = judge_ratios([1.01, 1.04, 1.02, 1.03, 1.01, 1.04, 1.02, 1.09])
    assert comparison.verdict is not Verdict.WORSE

"""The steps of a versions run judged by the gate's rule: each release against the one before, each Python
against the one before. Pure: rows and the run's environments in, judgements out.

A step is one A/B comparison of two environments of a framework: trial i of the earlier one (A) paired with
trial i of the later one (B), which ran in the same round of the interleaved schedule. It is judged as
`bench check --ab` judges a cell (bench/gate/decisions.py, compare_pairs): significant and beyond the
minimum effect, and on the same settings ([tool.bench.check]), except that a step needs only as many pairs
as the run has trials. Each step is its own check (no correction across steps): over the 60-odd steps of a
run, about one in twenty "significant" steps where nothing changed is expected at the default 5% rate.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from bench.columns import APP, CPU_MS_PER_REQUEST, RPS, SCENARIO, VARIANT
from bench.gate.decisions import MetricComparison, Verdict, compare_pairs
from bench.gate.samples import VARIANT_A, VARIANT_B, collect_pairs
from bench.gate.settings import METRICS, GateSettings

RELEASE_STEP = "release"
PYTHON_STEP = "python"
METRIC_WORDS = {CPU_MS_PER_REQUEST: "CPU per request", RPS: "req/s"}


@dataclass(frozen=True)
class StepEnvironment:
    """What a step needs to know of an environment (metadata.json's versions.environments entry)."""

    label: str
    app: str
    release: str
    python: str
    measured: bool


@dataclass(frozen=True)
class Step:
    """Two environments of one framework, adjacent on one axis (releases on one Python, or Pythons)."""

    app: str
    kind: str  # RELEASE_STEP or PYTHON_STEP
    before: StepEnvironment
    after: StepEnvironment

    @property
    def name(self) -> str:
        """Return how a sentence names the step: "django 5.0 -> 5.1" or "flask 3.1: Python 3.11 -> 3.12"."""
        if self.kind == RELEASE_STEP:
            return f"{self.app} {self.before.release} -> {self.after.release}"
        return f"{self.app} {self.after.release}: Python {self.before.python} -> {self.after.python}"


@dataclass(frozen=True)
class StepJudgement:
    """One step on one scenario and metric: the change (after / before - 1), its interval, the verdict."""

    app: str
    scenario: str
    kind: str
    step: str
    before: str
    after: str
    metric: str
    verdict: str
    reason: str
    change: float | None
    ci_low: float | None
    ci_high: float | None
    pairs: int
    sentence: str

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def environments_of(versions: Mapping[str, Any]) -> list[StepEnvironment]:
    """Return the environments of metadata.json's "versions" (measured: built and passed its contract)."""
    return [
        StepEnvironment(
            label=str(record["label"]),
            app=str(record["app"]),
            release=str(record["release"]),
            python=str(record["python"]),
            measured=record.get("status") == "ok" and record.get("contract") == "passed",
        )
        for record in versions.get("environments", [])
    ]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def adjacent_steps(environments: Sequence[StepEnvironment], *, release_python: str) -> list[Step]:
    """Return each framework's steps between measured environments: release after release on release_python,
    then Python after Python on each release measured on more than one."""
    steps: list[Step] = []
    measured = [environment for environment in environments if environment.measured]
    for app in dict.fromkeys(environment.app for environment in measured):
        mine = [environment for environment in measured if environment.app == app]
        releases = sorted((e for e in mine if e.python == release_python), key=lambda e: _key(e.release))
        steps += [Step(app, RELEASE_STEP, a, b) for a, b in itertools.pairwise(releases)]
        for release in sorted({e.release for e in mine}, key=_key):
            pythons = sorted((e for e in mine if e.release == release), key=lambda e: _key(e.python))
            steps += [Step(app, PYTHON_STEP, a, b) for a, b in itertools.pairwise(pythons)]
    return steps


def _percent(value: float | None) -> str:
    return "?" if value is None else f"{round(value * 100):+d}%"  # round first: no "-0%"


def step_sentence(step: Step, comparison: MetricComparison, *, scenario: str, min_effect: float) -> str:
    """Return the step as a sentence: "django 5.0 -> 5.1: db -12% CPU per request [-13%, -11%]
    (significant)", the interval that of the change."""
    what = f"{step.name}: {scenario} {_percent(comparison.change)} {METRIC_WORDS[comparison.metric]}"
    if comparison.ci_low is not None and comparison.ci_high is not None:
        what += f" [{_percent(comparison.ci_low)}, {_percent(comparison.ci_high)}]"
    if comparison.verdict in (Verdict.BETTER, Verdict.WORSE):
        # The gate's rule: significant, and the interval reaches the minimum effect; say so when the estimate
        # itself is short of it, so that "+6% (significant)" is not read as a 10% change.
        short = comparison.change is not None and abs(comparison.change) < min_effect
        judged = f"significant; the interval reaches {min_effect:.0%}" if short else "significant"
    elif (
        comparison.verdict == Verdict.UNCHANGED
        and comparison.ci_low is not None
        and (comparison.ci_low > 0 or (comparison.ci_high is not None and comparison.ci_high < 0))
    ):
        judged = f"significant, below the {min_effect:.0%} minimum effect"
    elif comparison.verdict == Verdict.UNCHANGED:
        judged = f"no change of {min_effect:.0%} or more"
    else:
        judged = f"inconclusive: {comparison.reason}"
    return f"{what} ({judged})"


def judge_step(
    step: Step, rows: Iterable[Mapping[str, Any]], *, scenario: str, settings: GateSettings
) -> list[StepJudgement]:
    """Return the step's judgement on one scenario, per metric (the gate's rule on its trial pairs)."""
    sides = {step.before.label: VARIANT_A, step.after.label: VARIANT_B}
    relabelled = [
        {**row, VARIANT: sides[row[VARIANT]]}
        for row in rows
        if row.get(VARIANT) in sides and row.get(SCENARIO) == scenario and row.get(APP) == step.app
    ]
    report = compare_pairs(collect_pairs(relabelled, metrics=METRICS), settings=settings)
    return [
        StepJudgement(
            app=step.app,
            scenario=scenario,
            kind=step.kind,
            step=step.name,
            before=step.before.label,
            after=step.after.label,
            metric=comparison.metric,
            verdict=comparison.verdict.value,
            reason=comparison.reason,
            change=comparison.change,
            ci_low=comparison.ci_low,
            ci_high=comparison.ci_high,
            pairs=comparison.samples[0],
            sentence=step_sentence(step, comparison, scenario=scenario, min_effect=settings.min_effect),
        )
        for comparison in report.comparisons
    ]


def judge_steps(
    rows: Sequence[Mapping[str, Any]],
    *,
    versions: Mapping[str, Any],
    scenarios: Sequence[str],
    settings: GateSettings,
    trials: int,
) -> list[StepJudgement]:
    """Return every step of a versions run judged on every scenario: CPU per request and req/s each, on the
    gate's settings with min_pairs lowered to the run's trials."""
    settings = replace(settings, min_pairs=max(2, min(settings.min_pairs, trials)))
    steps = adjacent_steps(environments_of(versions), release_python=str(versions.get("release_python", "")))
    return [
        judgement
        for step in steps
        for scenario in scenarios
        for judgement in judge_step(step, rows, scenario=scenario, settings=settings)
    ]

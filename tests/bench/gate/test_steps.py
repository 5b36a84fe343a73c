"""bench/gate/steps.py: the steps of a versions run judged by the gate's paired rule, on synthetic rows."""

from __future__ import annotations

from typing import Any

import pytest

from bench.gate.settings import GateSettings
from bench.gate.steps import (
    PYTHON_STEP,
    RELEASE_STEP,
    adjacent_steps,
    environments_of,
    judge_steps,
)


def environment(label: str, *, status: str = "ok", contract: str = "passed") -> dict[str, Any]:
    app, release, python = label.split()
    return {
        "label": label,
        "app": app,
        "release": release,
        "python": python.removeprefix("py"),
        "status": status,
        "contract": contract,
    }


VERSIONS = {
    "release_python": "3.12",
    "environments": [
        environment("django 5.0 py3.12"),
        environment("django 4.2 py3.12"),
        environment("django 5.1 py3.12"),
        environment("django 5.1 py3.13"),
        environment("django 5.1 py3.11", status="incompatible: resolver conflict: x", contract="not checked"),
    ],
}


def row(label: str, *, trial: int, cpu: float, rps: float, scenario: str = "db") -> dict[str, Any]:
    return {
        "app": label.split()[0],
        "server": "gunicorn",
        "scenario": scenario,
        "users": 32,
        "db": "postgres",
        "workers": 1,
        "trial": trial,
        "variant": label,
        "cpu_ms_per_request": cpu,
        "rps": rps,
        "error": "",
        "generator_bound": False,
    }


def rows_for(label: str, cpus: list[float]) -> list[dict[str, Any]]:
    return [row(label, trial=i, cpu=cpu, rps=1.0 / cpu) for i, cpu in enumerate(cpus, start=1)]


def test_steps_join_adjacent_releases_on_the_release_python_and_adjacent_pythons() -> None:
    steps = adjacent_steps(environments_of(VERSIONS), release_python="3.12")
    assert [(step.kind, step.name) for step in steps] == [
        (RELEASE_STEP, "django 4.2 -> 5.0"),
        (RELEASE_STEP, "django 5.0 -> 5.1"),
        (PYTHON_STEP, "django 5.1: Python 3.12 -> 3.13"),  # 3.11 was not measured: no step to it
    ]


def test_an_environment_measured_is_one_built_and_checked() -> None:
    measured = {e.label: e.measured for e in environments_of(VERSIONS)}
    assert measured == {
        "django 5.0 py3.12": True,
        "django 4.2 py3.12": True,
        "django 5.1 py3.12": True,
        "django 5.1 py3.13": True,
        "django 5.1 py3.11": False,
    }


def judged(rows: list[dict[str, Any]], **settings: Any) -> dict[tuple[str, str], Any]:
    judgements = judge_steps(
        rows, versions=VERSIONS, scenarios=["db"], settings=GateSettings(**settings), trials=3
    )
    return {(j.step, j.metric): j for j in judgements}


def test_a_clear_step_is_significant_and_said_in_a_sentence() -> None:
    rows = [
        *rows_for("django 4.2 py3.12", [1.00, 1.01, 0.99]),
        *rows_for("django 5.0 py3.12", [1.00, 1.02, 0.99]),  # the same
        *rows_for("django 5.1 py3.12", [0.880, 0.898, 0.871]),  # 12% less CPU, each round alike
        *rows_for("django 5.1 py3.13", [0.880, 0.898, 0.871]),
    ]
    result = judged(rows)
    faster = result[("django 5.0 -> 5.1", "cpu_ms_per_request")]
    assert faster.verdict == "better"
    assert faster.pairs == 3
    assert faster.change == pytest.approx(-0.12, abs=0.005)
    assert faster.sentence == "django 5.0 -> 5.1: db -12% CPU per request [-12%, -12%] (significant)"
    same = result[("django 4.2 -> 5.0", "cpu_ms_per_request")]
    assert same.verdict == "unchanged"
    assert same.sentence.endswith("(no change of 10% or more)")
    assert result[("django 5.0 -> 5.1", "rps")].sentence.startswith("django 5.0 -> 5.1: db +14% req/s")


def test_a_significant_step_short_of_the_effect_at_its_estimate_says_its_interval_reaches_it() -> None:
    rows = [
        *rows_for("django 4.2 py3.12", [1.0, 1.0, 1.0]),
        *rows_for("django 5.0 py3.12", [1.03, 1.06, 1.09]),  # +6%, spread: the interval reaches +10%
    ]
    step = judged(rows)[("django 4.2 -> 5.0", "cpu_ms_per_request")]
    assert step.verdict == "worse"
    assert step.ci_low is not None and step.ci_low > 0 and step.ci_high is not None and step.ci_high >= 0.10
    low, high = round(step.ci_low * 100), round(step.ci_high * 100)
    assert step.sentence == (
        f"django 4.2 -> 5.0: db +6% CPU per request [+{low}%, +{high}%]"
        " (significant; the interval reaches 10%)"
    )


def test_a_noisy_step_is_inconclusive_and_says_why() -> None:
    rows = [
        *rows_for("django 4.2 py3.12", [1.0, 1.0, 1.0]),
        *rows_for("django 5.0 py3.12", [0.7, 1.3, 0.9]),
        *rows_for("django 5.1 py3.12", [0.9, 0.9, 0.9]),
    ]
    step = judged(rows)[("django 4.2 -> 5.0", "cpu_ms_per_request")]
    assert step.verdict == "inconclusive"
    assert "too noisy" in step.sentence


def test_a_step_needs_as_many_pairs_as_the_run_has_trials_at_most() -> None:
    rows = [*rows_for("django 4.2 py3.12", [1.0, 1.0]), *rows_for("django 5.0 py3.12", [0.8, 0.8])]
    step = judged(rows)[("django 4.2 -> 5.0", "cpu_ms_per_request")]
    assert step.verdict == "inconclusive"
    assert "2 valid pairs (need 3)" in step.reason


def test_a_flagged_trial_leaves_its_pair_out() -> None:
    rows = [
        *rows_for("django 4.2 py3.12", [1.0, 1.0, 1.0, 1.0]),
        *rows_for("django 5.0 py3.12", [0.8, 0.8, 0.8, 0.8]),
    ]
    rows[-1]["error"] = "server exited"
    judgements = judge_steps(rows, versions=VERSIONS, scenarios=["db"], settings=GateSettings(), trials=4)
    step = next(j for j in judgements if j.step == "django 4.2 -> 5.0" and j.metric == "cpu_ms_per_request")
    assert step.pairs == 3

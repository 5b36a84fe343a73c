"""bench/report/latency/targets.py: the latency target a scenario's sweeps are judged at, from synthetic
sweeps."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from bench.errors import ConfigError
from bench.report import aggregate as a
from bench.report.latency.targets import (
    TARGET_FACTOR,
    chosen_slo,
    has_sweep,
    latency_targets,
    sweep_rows,
    validate_slo_ms,
)
from bench.results import rows_to_dicts
from tests.bench.report.synthetic_sweep import PROFILE, with_sweeps
from tests.bench.synthetic_run import synthetic_rows


def test_the_default_target_is_ten_times_the_median_over_apps_of_each_apps_median_unloaded_p50() -> None:
    unloaded = {"fastapi": [1.0, 1.0, 1.0], "flask": [5.0], "django": [9.0, 30.0, 1.0]}
    rows = [row for row in synthetic_rows(scenarios=("db", "api")) if row.trial < len(unloaded[row.app])]
    rows = with_sweeps(
        rows, unloaded_p50=lambda row: unloaded[row.app][row.trial] * (2 if row.scenario == "api" else 1)
    )
    frame = a.frame_from_rows(rows_to_dicts(rows))

    targets = latency_targets(frame)

    # Per app: fastapi 1, flask 5, django 9; over the apps: 5 (the median of all seven trials would be 1).
    assert set(targets) == {("db", "sqlite"), ("api", "sqlite")}
    assert targets["db", "sqlite"].ms == pytest.approx(TARGET_FACTOR * 5.0)
    assert targets["api", "sqlite"].ms == pytest.approx(TARGET_FACTOR * 10.0), "one target per scenario"
    rule = targets["db", "sqlite"].rule
    assert "median unloaded p50 (django 9, fastapi 1, flask 5 ms)" in rule


def test_each_database_has_its_own_target() -> None:
    rows = with_sweeps(synthetic_rows(scenarios=("db",)))
    rows += [replace(row, db="postgres", unloaded_p50_ms=4.0) for row in rows]
    targets = latency_targets(a.frame_from_rows(rows_to_dicts(rows)))
    assert targets["db", "sqlite"].ms == pytest.approx(20.0)
    assert targets["db", "postgres"].ms == pytest.approx(40.0)


def test_a_given_slo_is_every_scenarios_target_and_says_where_it_comes_from() -> None:
    frame = a.frame_from_rows(rows_to_dicts(with_sweeps(synthetic_rows(scenarios=("db", "api")))))
    targets = latency_targets(frame, slo_ms=12.0, slo_source="given with --slo-ms")
    assert {target.ms for target in targets.values()} == {12.0}
    assert all("--slo-ms" in target.rule for target in targets.values())


def test_the_override_wins_over_the_profile_and_the_profile_over_the_default() -> None:
    metadata = {"settings": {"profile": {**PROFILE, "slo_ms": 20.0}}}
    assert chosen_slo(12.0, metadata) == (12.0, "given with --slo-ms")
    assert chosen_slo(None, metadata) == (20.0, "the profile's slo_ms")
    assert chosen_slo(None, {"settings": {"profile": PROFILE}}) == (None, ""), "slo_ms null: the default rule"
    assert chosen_slo(None, {}) == (None, ""), "older metadata has no slo_ms"


@pytest.mark.parametrize("value", [0.0, -5.0, math.nan, math.inf])
def test_a_target_must_be_a_positive_number_of_milliseconds(value: float) -> None:
    with pytest.raises(ConfigError, match=r"--slo-ms must be a number of milliseconds above 0"):
        validate_slo_ms(value, where="--slo-ms")
    with pytest.raises(ConfigError, match="--slo-ms"):
        chosen_slo(value, {})


def test_no_unloaded_step_gives_no_target() -> None:
    rows = [replace(row, unloaded_p50_ms=None) for row in with_sweeps(synthetic_rows(scenarios=("db",)))]
    (target,) = latency_targets(a.frame_from_rows(rows_to_dicts(rows))).values()
    assert math.isnan(target.ms) and "no unloaded step" in target.rule


def test_rows_without_a_sweep_have_no_target_and_no_sweep_rows() -> None:
    frame = a.frame_from_rows(rows_to_dicts(synthetic_rows(scenarios=("db",))))
    assert not has_sweep(frame)
    assert sweep_rows(frame).empty
    assert latency_targets(frame) == {}
    assert latency_targets(frame, slo_ms=10.0, slo_source="x") == {}


def test_failed_trials_are_left_out_of_the_target() -> None:
    rows = with_sweeps(synthetic_rows(apps=("flask",), scenarios=("db",)))
    rows[0] = replace(rows[0], error="server died", unloaded_p50_ms=100.0)
    frame = a.frame_from_rows(rows_to_dicts(rows))
    assert len(sweep_rows(frame)) == 2
    assert latency_targets(frame)["db", "sqlite"].ms == pytest.approx(20.0)

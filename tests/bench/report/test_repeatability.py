"""bench/report/repeatability.py and `bench repeatability`: the spread of each cell across repeated runs."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.columns import CPU_MS_PER_REQUEST, RPS
from bench.errors import EXIT_OK, EXIT_USAGE
from bench.report.aggregate import cv_of, frame_from_rows, median_of
from bench.report.repeatability import (
    CPU_RELATIVE,
    ERROR_RUNS,
    GENERATOR_BOUND_RUNS,
    RUNS,
    spread_across_runs,
    within_goal,
)
from bench.results import ResultRow
from tests.bench.synthetic_gate import trial_rows, write_run


def run_rows(cpu_json: list[float], cpu_db: float, **flags: list[int]) -> list[ResultRow]:
    """Rows of one run: a json cell with one trial per value given, and a one-trial db cell."""
    return [
        *trial_rows(scenario="json", cpu_ms=cpu_json, **flags),  # type: ignore[arg-type]
        *trial_rows(scenario="db", cpu_ms=[cpu_db]),
    ]


def frame(rows: list[ResultRow]) -> pd.DataFrame:
    from dataclasses import asdict

    return frame_from_rows(asdict(row) for row in rows)


def cell(spread: pd.DataFrame, scenario: str) -> pd.Series:
    return spread[spread["scenario"] == scenario].iloc[0]


def test_each_run_gives_its_median_and_the_spread_is_their_cv() -> None:
    runs = [run_rows([1.0, 1.0, 5.0], 0.5), run_rows([1.1, 1.1, 0.1], 0.6), run_rows([0.9], 0.7)]
    spread = spread_across_runs([frame(rows) for rows in runs])
    json_cell = cell(spread, "json")
    assert json_cell[RUNS] == 3
    assert json_cell[median_of(CPU_MS_PER_REQUEST)] == pytest.approx(1.0)  # medians 1.0, 1.1, 0.9
    assert json_cell[cv_of(CPU_MS_PER_REQUEST)] == pytest.approx(0.1)
    assert cell(spread, "db")[cv_of(CPU_MS_PER_REQUEST)] == pytest.approx(0.1 / 0.6)
    assert within_goal(spread, CPU_MS_PER_REQUEST, goal=0.12) == (1, 2)


def test_generator_bound_runs_keep_their_cpu_but_not_their_rps() -> None:
    runs = [run_rows([1.0], 0.5, generator_bound=[1]), run_rows([1.02], 0.5), run_rows([0.98], 0.5)]
    json_cell = cell(spread_across_runs([frame(rows) for rows in runs]), "json")
    assert json_cell[GENERATOR_BOUND_RUNS] == 1
    assert json_cell[cv_of(CPU_MS_PER_REQUEST)] == pytest.approx(0.02)
    assert math.isnan(json_cell[cv_of(RPS)])  # a generator-bound cell's throughput is a lower bound


def test_failed_runs_are_counted_and_left_out() -> None:
    runs = [run_rows([9.0], 0.5, errors=[1]), run_rows([1.0], 0.5), run_rows([1.0], 0.5)]
    json_cell = cell(spread_across_runs([frame(rows) for rows in runs]), "json")
    assert json_cell[ERROR_RUNS] == 1
    assert json_cell[median_of(CPU_MS_PER_REQUEST)] == pytest.approx(1.0)
    assert json_cell[cv_of(CPU_MS_PER_REQUEST)] == pytest.approx(0.0)


def test_drift_shared_by_every_app_of_a_run_cancels_in_the_relative_spread() -> None:
    def two_apps(machine: float, *, django_extra: float = 1.0) -> pd.DataFrame:
        return frame(
            [
                *trial_rows(app="flask", server="gunicorn", cpu_ms=[0.2 * machine]),
                *trial_rows(app="django", server="gunicorn", cpu_ms=[0.3 * machine * django_extra]),
            ]
        )

    # Whole runs 10% dearer or cheaper: every app moves, the comparison does not.
    spread = spread_across_runs([two_apps(1.0), two_apps(1.1), two_apps(0.9)])
    assert spread[cv_of(CPU_MS_PER_REQUEST)].tolist() == pytest.approx([0.1, 0.1])
    assert spread[cv_of(CPU_RELATIVE)].tolist() == pytest.approx([0.0, 0.0])
    assert within_goal(spread, CPU_RELATIVE) == (2, 2)
    # One app alone 20% dearer in one run: that shows in the relative spread.
    moved = spread_across_runs([two_apps(1.0), two_apps(1.0), two_apps(1.0, django_extra=1.2)])
    assert (moved[cv_of(CPU_RELATIVE)] > 0.05).all()


def test_the_command_prints_and_writes_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = [write_run(tmp_path / f"r{i}", run_rows([1.0 + i / 100], 0.5)) for i in range(3)]
    out = tmp_path / "spread.csv"
    assert main(["repeatability", *map(str, runs), "--csv", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "cpu_ms_per_request: CV at most 5% in 2 of 2 cells" in printed
    assert "cpu_ms_per_request_relative: CV at most 5% in 2 of 2 cells" in printed
    assert len(pd.read_csv(out)) == 2


def test_the_command_needs_two_existing_runs(tmp_path: Path) -> None:
    run = write_run(tmp_path / "r1", run_rows([1.0], 0.5))
    assert main(["repeatability", str(run)]) == EXIT_USAGE
    assert main(["repeatability", str(run), str(tmp_path / "nowhere")]) == EXIT_USAGE

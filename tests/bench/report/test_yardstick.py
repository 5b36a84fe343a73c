"""bench/report/yardstick.py: Locust's requests/s over wrk's, trial by trial, and why wrk did not measure."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.report import aggregate as a
from bench.report.yardstick import LOCUST_TO_WRK, has_yardstick, yardstick_cells, yardstick_summary
from bench.results import CELL_KEYS, rows_to_dicts
from tests.bench.synthetic_run import flag, synthetic_rows


def test_the_ratio_is_locust_over_wrk_trial_by_trial() -> None:
    rows = synthetic_rows(apps=("flask",), scenarios=("db", "api"))
    rows = [
        replace(row, rps=1000.0 + 100 * row.trial, wrk_rps=2000.0 / (1 + row.trial), wrk_p99_ms=3.0)
        if row.scenario == "db"
        else row
        for row in rows
    ]
    frame = a.frame_from_rows(rows_to_dicts(rows))

    (cell,) = yardstick_cells(frame)

    assert cell.key == ("flask", "gunicorn", "db", 64, "sqlite"), "api: wrk was not asked"
    ratios = [1000 / 2000, 1100 / 1000, 1200 / (2000 / 3)]
    assert cell.ratio.median == pytest.approx(sorted(ratios)[1])
    assert (cell.ratio.low, cell.ratio.high) == (pytest.approx(min(ratios)), pytest.approx(max(ratios)))
    assert cell.locust_rps.median == 1100.0 and cell.wrk_rps.median == 1000.0
    assert cell.wrk_p99_ms == 3.0 and cell.measured and cell.errors == ()
    summary = yardstick_summary([cell])
    assert tuple(summary.columns[: len(CELL_KEYS)]) == CELL_KEYS
    assert summary[LOCUST_TO_WRK].iloc[0] == pytest.approx(sorted(ratios)[1])


def test_why_wrk_did_not_measure_is_kept() -> None:
    rows = synthetic_rows(apps=("flask",), scenarios=("db",))
    rows = [replace(row, wrk_error="wrk is not installed and cannot be installed here") for row in rows]
    (cell,) = yardstick_cells(a.frame_from_rows(rows_to_dicts(rows)))
    assert not cell.measured and cell.ratio.count == 0
    assert cell.errors == ("wrk is not installed and cannot be installed here",)


def test_failed_trials_are_left_out() -> None:
    rows = [replace(row, wrk_rps=1000.0) for row in synthetic_rows(apps=("flask",), scenarios=("db",))]
    rows = flag(rows, app="flask", scenario="db", trials=[0], error="server died", rps=5.0)
    (cell,) = yardstick_cells(a.frame_from_rows(rows_to_dicts(rows)))
    assert cell.ratio.count == 2 and cell.locust_rps.low > 5.0


def test_a_run_without_wrk_has_no_yardstick() -> None:
    frame = a.frame_from_rows(rows_to_dicts(synthetic_rows()))
    assert not has_yardstick(frame) and yardstick_cells(frame) == []

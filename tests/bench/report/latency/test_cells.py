"""bench/report/latency/cells.py: a cell's trials together (median, range, bounds), the curve over its steps,
which cells the run can tell apart, the warnings and summary.csv's columns."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest

from bench.report import aggregate as a
from bench.report.latency.cells import (
    CAPACITY_BELOW,
    CAPACITY_MEDIAN,
    GENERATOR_BEHIND,
    GENERATOR_BEHIND_REASON,
    NO_NOISE_ESTIMATE,
    NOT_RECOVERED,
    P99_TARGET,
    SWEEP_SUMMARY_COLUMNS,
    CellSweep,
    Spread,
    capacity_standing,
    capacity_standings,
    generator_behind_warnings,
    headline_keys,
    sweep_cells,
    sweep_summary,
)
from bench.report.latency.targets import (
    LatencyTarget,
    latency_targets,
)
from bench.report.latency.trials import (
    ABOVE,
    BELOW,
    Bounded,
    TrialSweep,
)
from bench.results import CELL_KEYS, ResultRow, rows_to_dicts
from tests.bench.report.synthetic_sweep import SHARES, sweep, with_sweep, with_sweeps
from tests.bench.synthetic_run import flag, synthetic_rows

TARGET = LatencyTarget(10.0, "p99 ≤ 10 ms, given")


def cell(
    label: str, capacities: list[Bounded], *, behind: bool = False, target: LatencyTarget = TARGET
) -> CellSweep:
    trials = tuple(
        TrialSweep(trial, 1000.0, capacity, Bounded(500.0), None, None, behind)
        for trial, capacity in enumerate(capacities)
    )
    return CellSweep((label, "gunicorn", "db", 32, "sqlite"), label, target, trials, ())


def frame_of(rows: list[ResultRow]) -> pd.DataFrame:
    return a.frame_from_rows(rows_to_dicts(rows))


def test_spread_is_the_median_the_range_and_their_ratio() -> None:
    spread = Spread.of([900.0, 1000.0, 1100.0, math.nan])
    assert (spread.median, spread.low, spread.high, spread.count) == (1000.0, 900.0, 1100.0, 3)
    assert spread.relative == pytest.approx(0.2)
    assert math.isnan(Spread.of([1000.0]).relative), "one trial: no spread"
    assert Spread.of([]).count == 0


def test_a_cell_gathers_its_trials_and_labels_a_second_server() -> None:
    rows = with_sweeps(synthetic_rows(apps=("flask", "django"), scenarios=("db",)))
    rows += [replace(row, server="gevent") for row in rows if row.app == "flask"]
    frame = frame_of(rows)

    cells = sweep_cells(frame, latency_targets(frame))

    labels = {cell.key: cell.label for cell in cells}
    assert labels == {
        ("django", "gunicorn", "db", 64, "sqlite"): "django",
        ("flask", "gevent", "db", 64, "sqlite"): "flask (gevent)",
        ("flask", "gunicorn", "db", 64, "sqlite"): "flask (gunicorn)",
    }
    django = next(cell for cell in cells if cell.label == "django")
    trials_rps = sorted(row.rps for row in rows if row.app == "django")
    assert [trial.peak_rps for trial in django.trials] == [row.rps for row in rows if row.app == "django"]
    assert django.peak == Spread(trials_rps[1], trials_rps[0], trials_rps[2], 3)
    # The hockey stick crosses 10 x 2 ms between 75% and 90% of each trial's own peak.
    assert 0.75 < django.capacity_of_peak.low <= django.capacity_of_peak.high < 0.9
    assert django.capacity.median == pytest.approx(
        sorted(trial.capacity.rps for trial in django.trials)[1]
    ), "the median over trials"
    assert django.target.ms == pytest.approx(20.0)


def test_failed_trials_and_rows_without_a_sweep_are_not_cells() -> None:
    rows = with_sweeps(synthetic_rows(apps=("flask",), scenarios=("db", "json")), scenarios=("db",))
    rows = flag(rows, app="flask", scenario="db", trials=[0], error="server died")
    frame = frame_of(rows)
    (only,) = sweep_cells(frame, latency_targets(frame))
    assert only.key[2] == "db" and [trial.trial for trial in only.trials] == [1, 2]


def test_the_curve_is_the_median_over_trials_of_each_step() -> None:
    (row,) = synthetic_rows(apps=("flask",), scenarios=("db",), trials=1)
    p99s = [[4.0, 5.0, 6.0, 7.0, 8.0, 9.0], [2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]]
    rows = [
        with_sweep(
            replace(row, trial=trial),
            sweep(peak=1000.0, p99s=values, changes={0.9: {"behind": trial == 2}}),
        )
        for trial, values in enumerate(p99s)
    ]
    frame = frame_of(rows)
    (made,) = sweep_cells(frame, latency_targets(frame))
    assert [point.share for point in made.curve] == list(SHARES), "the sweep steps only, in order"
    assert [point.p99_ms for point in made.curve] == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert [point.uncorrected_p99_ms for point in made.curve] == [2.0, 2.5, 3.0, 3.5, 4.0, 4.5]
    assert made.curve[0].offered_rps == 250.0 and made.curve[0].achieved_rps == 250.0
    assert [point.behind for point in made.curve] == [False, False, False, True, False, False]


def test_cells_whose_ranges_overlap_are_tied_the_others_apart() -> None:
    fast = cell("fastapi", [Bounded(950.0), Bounded(1000.0), Bounded(1050.0)])
    flask = cell("flask", [Bounded(900.0), Bounded(940.0), Bounded(960.0)])
    django = cell("django", [Bounded(500.0), Bounded(550.0), Bounded(600.0)])

    standing = capacity_standing([django, flask, fast])

    assert standing.groups == [["fastapi", "flask"], ["django"]]
    assert standing.text == "fastapi ≈ flask > django"
    assert standing.tied == {"fastapi": ["flask"], "flask": ["fastapi"], "django": []}


def test_a_group_holds_only_cells_tied_pair_by_pair_and_the_other_ties_are_said() -> None:
    # db in run latency-fresh-1: django's range overlaps both others, flask's and fastapi's do not.
    flask = cell("flask", [Bounded(610.0), Bounded(649.0), Bounded(654.0)])
    django = cell("django", [Bounded(390.0), Bounded(598.0), Bounded(668.0)])
    fast = cell("fastapi", [Bounded(497.0), Bounded(539.0), Bounded(605.0)])
    standing = capacity_standing([fast, flask, django])
    assert standing.groups == [["django", "flask"], ["fastapi"]]
    assert standing.text == "django ≈ flask > fastapi; and django ≈ fastapi"


def test_ranges_that_only_nearly_meet_are_apart() -> None:
    fast = cell("fastapi", [Bounded(961.0), Bounded(1000.0)])
    flask = cell("flask", [Bounded(900.0), Bounded(960.0)])
    assert capacity_standing([fast, flask]).text == "fastapi > flask"


def test_a_trial_beyond_the_sweep_stretches_its_cells_range() -> None:
    # One trial of flask never went over the target: it may be as fast as anything.
    fast = cell("fastapi", [Bounded(2000.0), Bounded(2100.0)])
    flask = cell("flask", [Bounded(900.0), Bounded(1250.0, ABOVE)])
    django = cell("django", [Bounded(250.0, BELOW), Bounded(300.0)])
    assert flask.interval == (900.0, math.inf) and django.interval == (0.0, 300.0)
    assert capacity_standing([fast, flask, django]).text == "fastapi ≈ flask > django"


def test_one_trial_no_target_or_a_generator_behind_leaves_a_cell_unjudged() -> None:
    standing = capacity_standing(
        [
            cell("fastapi", [Bounded(1000.0)]),
            cell("flask", [Bounded(900.0), Bounded(950.0)], behind=True),
            cell("django", [Bounded(500.0), Bounded(550.0)], target=LatencyTarget(math.nan, "none")),
        ]
    )
    assert standing.groups == []
    assert standing.unjudged == {
        "fastapi": NO_NOISE_ESTIMATE,
        "flask": GENERATOR_BEHIND_REASON,
        "django": "no latency target",
    }
    assert standing.text.startswith("django: no latency target; fastapi: fewer than two trials")


def test_standings_are_per_scenario_database_and_users() -> None:
    rows = with_sweeps(synthetic_rows(scenarios=("db", "api")))
    frame = frame_of(rows)
    standings = capacity_standings(sweep_cells(frame, latency_targets(frame)))
    assert set(standings) == {("db", "sqlite", 64), ("api", "sqlite", 64)}
    # Every trial crosses the target at the same share of its own peak: capacity follows throughput.
    assert standings["db", "sqlite", 64].text == "fastapi > flask > django"


def test_a_generator_that_fell_behind_is_a_warning_naming_trials_and_steps() -> None:
    (row,) = synthetic_rows(apps=("flask",), scenarios=("db",), trials=1)
    p99s = [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    rows = [
        with_sweep(
            row, sweep(peak=1000.0, p99s=p99s, changes={1.25: {"behind": True}}, recovery={"behind": True})
        ),
        with_sweep(replace(row, trial=1), sweep(peak=1000.0, p99s=p99s)),
    ]
    (warning,) = generator_behind_warnings(frame_of(rows))
    assert warning.kind == GENERATOR_BEHIND and (warning.app, warning.db) == ("flask", "sqlite")
    assert "trial 0: 125%, the recovery step" in warning.message and "trial 1" not in warning.message
    assert generator_behind_warnings(frame_of(rows[1:])) == [], "the warm-up's generator is not reported"
    assert generator_behind_warnings(frame_of(synthetic_rows())) == []


def test_summary_has_a_line_per_swept_cell() -> None:
    rows = with_sweeps(synthetic_rows(scenarios=("db", "json")), scenarios=("db",))
    frame = frame_of(rows)
    summary = sweep_summary(sweep_cells(frame, latency_targets(frame)))
    assert tuple(summary.columns) == (*CELL_KEYS, *SWEEP_SUMMARY_COLUMNS)
    assert len(summary) == 3 and set(summary["scenario"]) == {"db"}
    assert (summary[P99_TARGET] == 20.0).all() and (summary[CAPACITY_BELOW] == 0).all()
    assert (summary[NOT_RECOVERED] == 0).all() and (summary[CAPACITY_MEDIAN] > 0).all()


def test_headline_keys_name_each_apps_headline_cells() -> None:
    cells = a.aggregate_cells(frame_of(synthetic_rows(scenarios=("db", "api"))))
    keys = headline_keys(a.headline_cells(cells, preferred_servers={}))
    assert keys["flask"] == [
        ("flask", "gunicorn", "api", 64, "sqlite"),
        ("flask", "gunicorn", "db", 64, "sqlite"),
    ]

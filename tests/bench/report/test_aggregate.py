"""bench/report/aggregate.py on synthetic results: medians over valid trials only, deterministic bootstrap
intervals, flagged, failed, missing and noisy cells reported, rankings over comparable workloads only."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench import columns as c
from bench.report import aggregate as a
from bench.results import ResultRow, rows_to_dicts
from tests.bench.synthetic_run import flag, synthetic_rows


def cells_of(rows: list[ResultRow]) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = a.frame_from_rows(rows_to_dicts(rows))
    return frame, a.aggregate_cells(frame)


def cell(cells: pd.DataFrame, app: str, scenario: str, users: int = 64) -> pd.Series:
    match = cells[(cells[c.APP] == app) & (cells[c.SCENARIO] == scenario) & (cells[c.USERS] == users)]
    assert len(match) == 1, f"expected one cell for {app}/{scenario}/{users}, found {len(match)}"
    return match.iloc[0]


def test_column_names_come_from_the_results_schema() -> None:
    with pytest.raises(LookupError, match="no column"):
        c.column("requests_per_second")


def test_frame_from_rows_fills_missing_columns_and_status() -> None:
    frame = a.frame_from_rows(
        [{"app": "flask", "server": "gunicorn", "scenario": "json", "users": 8, "trial": 0}]
    )
    assert frame.loc[0, a.STATUS] == a.STATUS_OK
    assert frame.loc[0, c.ERROR] == ""
    assert math.isnan(frame.loc[0, c.LATENCY_P99])
    assert math.isnan(frame.loc[0, a.MEMORY_PER_WORKER]), "no memory measured: unknown, not zero"


def test_memory_per_worker_prefers_pss_and_counts_the_whole_tree() -> None:
    base = {"app": "flask", "server": "gunicorn", "scenario": "json", "users": 8, "trial": 0, "workers": 2}
    frame = a.frame_from_rows(
        [{**base, "server_rss_mb": 300.0, "server_pss_mb": 200.0}, {**base, "server_rss_mb": 300.0}]
    )
    assert list(frame[a.MEMORY_PER_WORKER]) == [100.0, 150.0]


def test_the_database_cpu_beside_the_apps_and_their_sum_per_trial() -> None:
    base = {"app": "flask", "server": "gunicorn", "scenario": "db", "users": 8, "requests": 100}
    rows = [
        {**base, "db": "postgres", "trial": 1, "cpu_ms_per_request": 0.5, "db_cpu_ms_per_request": 0.25},
        {**base, "db": "postgres", "trial": 2, "cpu_ms_per_request": 0.7, "db_cpu_ms_per_request": 0.05},
        {**base, "db": "postgres", "trial": 3, "cpu_ms_per_request": 0.6, "db_cpu_ms_per_request": 0.3},
        # SQLite: no database server, so no database figure and no sum (not the app's figure alone)
        {**base, "db": "sqlite", "trial": 1, "cpu_ms_per_request": 0.4, "db_cpu_ms_per_request": None},
    ]
    frame = a.frame_from_rows(rows)
    assert list(frame[a.APP_DB_CPU_MS_PER_REQUEST])[:3] == pytest.approx([0.75, 0.75, 0.9])
    cells = a.aggregate_cells(frame).set_index(c.DB)
    postgres, sqlite = cells.loc["postgres"], cells.loc["sqlite"]
    assert postgres[a.median_of(c.CPU_MS_PER_REQUEST)] == pytest.approx(0.6)
    assert postgres[a.median_of(c.DB_CPU_MS_PER_REQUEST)] == pytest.approx(0.25)
    # the median of the trials' sums, not the sum of the medians (0.85)
    assert postgres[a.median_of(a.APP_DB_CPU_MS_PER_REQUEST)] == pytest.approx(0.75)
    assert sqlite[a.median_of(c.CPU_MS_PER_REQUEST)] == pytest.approx(0.4)
    assert math.isnan(sqlite[a.median_of(c.DB_CPU_MS_PER_REQUEST)])
    assert math.isnan(sqlite[a.median_of(a.APP_DB_CPU_MS_PER_REQUEST)])


def test_rows_of_older_runs_have_no_database_cpu() -> None:
    frame = a.frame_from_rows([{"app": "flask", "server": "g", "scenario": "db", "users": 8, "trial": 0}])
    assert math.isnan(frame.loc[0, c.DB_CPU_MS_PER_REQUEST])
    assert math.isnan(frame.loc[0, a.APP_DB_CPU_MS_PER_REQUEST])


def test_summary_of_one_trial_has_no_interval_and_no_cv() -> None:
    summary = a.summarize_trials([1234.0])
    assert summary.median == 1234.0
    assert math.isnan(summary.ci_low) and math.isnan(summary.ci_high) and math.isnan(summary.cv)


def test_summary_of_nothing_is_nan() -> None:
    summary = a.summarize_trials([math.nan])
    assert math.isnan(summary.median)


def test_bootstrap_is_deterministic_and_brackets_the_median() -> None:
    values = [100.0, 104.0, 98.0, 110.0, 101.0]
    first, second = a.summarize_trials(values), a.summarize_trials(list(reversed(values)))
    assert first == second
    assert first.median == 101.0
    assert 98.0 <= first.ci_low <= first.median <= first.ci_high <= 110.0
    assert first.cv == pytest.approx(pd.Series(values).std() / pd.Series(values).mean())


def test_median_uses_valid_trials_only() -> None:
    rows = synthetic_rows(apps=("flask",), scenarios=("json",), trials=3, noise=0.0)
    rows = flag(rows, app="flask", scenario="json", trials=[2], generator_bound=True, rps=99_999.0)
    _, cells = cells_of(rows)
    record = cell(cells, "flask", "json")
    assert record[a.STATUS] == a.STATUS_PARTIAL
    assert record[a.VALID_TRIALS] == 2 and record[a.GENERATOR_BOUND_TRIALS] == 1
    assert record[a.median_of(c.RPS)] == pytest.approx(4700.0)
    assert "#2=99999.0 (generator_bound)" in record[a.TRIAL_RPS]


def test_all_failed_cell_has_no_median_and_keeps_its_error() -> None:
    rows = synthetic_rows(apps=("flask", "django"), scenarios=("json",))
    rows = flag(rows, app="django", scenario="json", error="server did not start", rps=0.0)
    frame, cells = cells_of(rows)
    record = cell(cells, "django", "json")
    assert record[a.STATUS] == a.STATUS_ERROR
    assert math.isnan(record[a.median_of(c.RPS)]) and math.isnan(record[a.RATIO_TO_BEST])
    assert record[a.ERRORS] == "server did not start"
    kinds = {(w.app, w.kind) for w in a.collect_warnings(frame, cells)}
    assert ("django", a.STATUS_ERROR) in kinds


def test_generator_bound_cell_keeps_a_lower_bound_outside_the_median() -> None:
    rows = synthetic_rows(apps=("fastapi",), scenarios=("plaintext",))
    rows = flag(rows, app="fastapi", scenario="plaintext", generator_bound=True, rps=12_500.0)
    frame, cells = cells_of(rows)
    record = cell(cells, "fastapi", "plaintext")
    assert record[a.STATUS] == a.STATUS_GENERATOR_BOUND
    assert math.isnan(record[a.median_of(c.RPS)])
    assert record[a.BOUND_RPS] == 12_500.0
    (warning,) = [w for w in a.collect_warnings(frame, cells) if w.kind == a.STATUS_GENERATOR_BOUND]
    assert "trials 0, 1, 2" in warning.message and "lower bound" in warning.message


def test_ratio_to_best_per_scenario() -> None:
    _, cells = cells_of(synthetic_rows(noise=0.0))
    assert cell(cells, "fastapi", "json")[a.RATIO_TO_BEST] == 1.0
    assert cell(cells, "flask", "json")[a.RATIO_TO_BEST] == pytest.approx(4700 / 8000)


def test_warnings_for_noise_failures_data_and_missing_cells() -> None:
    rows = synthetic_rows(users=(16, 64))
    rows = flag(rows, app="django", scenario="db", trials=[0], rps=5000.0)
    rows = flag(rows, app="flask", scenario="api", trials=[1], failures=7, failures_by_kind={"status 500": 7})
    rows = flag(rows, app="fastapi", scenario="db", trials=[2], data_check="3 rows missing after the run")
    rows = [row for row in rows if not (row.app == "django" and row.scenario == "io" and row.users == 16)]
    frame, cells = cells_of(rows)
    warnings = a.collect_warnings(frame, cells)
    found = {(w.app, w.scenario, w.kind) for w in warnings}
    assert ("django", "db", "noisy") in found
    assert ("flask", "api", "failures") in found
    assert ("fastapi", "db", "data_check") in found
    assert ("django", "io", "missing") in found
    (missing,) = [w for w in warnings if w.kind == "missing"]
    assert missing.users == 16 and missing.cell == "django / io / 16 users / sqlite"
    assert all(w.kind != "few_trials" for w in warnings)


def test_a_run_of_single_trials_gets_one_warning_not_one_per_cell() -> None:
    frame, cells = cells_of(synthetic_rows(trials=1))
    few = [w for w in a.collect_warnings(frame, cells) if w.kind == "few_trials"]
    assert len(few) == 1 and few[0].cell == "whole run"
    assert cells[a.ci_low_of(c.RPS)].isna().all()


def test_headline_cells_prefer_the_default_server_at_the_largest_user_count() -> None:
    rows = synthetic_rows(apps=("flask",), scenarios=("json",), users=(16, 64))
    other = [
        ResultRow(**{**row.__dict__, "server": "gthread", "rps": row.rps * 2})
        for row in rows
        if row.users == 64
    ]
    _, cells = cells_of(rows + other)
    headline = a.headline_cells(cells, preferred_servers={"flask": "gunicorn"})
    assert list(headline[c.SERVER]) == ["gunicorn"] and list(headline[c.USERS]) == [64]
    fallback = a.headline_cells(cells, preferred_servers={})
    assert list(fallback[c.SERVER]) == ["gthread"], "without a preference, the first server by name"


def test_history_has_one_line_per_run_app_and_scenario() -> None:
    runs = [
        ("run-1", a.frame_from_rows(rows_to_dicts(synthetic_rows(scenarios=("json",), seed=1)))),
        ("run-2", a.frame_from_rows(rows_to_dicts(synthetic_rows(scenarios=("json", "db"), seed=2)))),
    ]
    history = a.headline_history(runs, preferred_servers={})
    assert len(history) == 3 + 6
    assert list(dict.fromkeys(history[a.RUN])) == ["run-1", "run-2"]


def test_trials_on_other_databases_are_other_cells_and_mixed_variants_are_flagged() -> None:
    rows = synthetic_rows(apps=("flask",), scenarios=("json",), trials=2)
    rows = flag(rows, app="flask", scenario="json", trials=[1], db="postgres")
    frame, cells = cells_of(rows)
    assert sorted(cells[c.DB]) == ["postgres", "sqlite"] and set(cells[a.TRIALS]) == {1}
    rows = flag(
        synthetic_rows(apps=("flask",), scenarios=("json",), trials=2),
        app="flask",
        scenario="json",
        trials=[1],
        variant="B",
    )
    frame, cells = cells_of(rows)
    mixed = [w.message for w in a.collect_warnings(frame, cells) if w.kind == "mixed"]
    assert len(mixed) == 1 and "A/B" in mixed[0]


def test_headline_takes_postgres_first_then_a_given_database_and_scenario_servers() -> None:
    base = {"scenario": "db", "users": 32, "trial": 1, "rps": 100.0}
    rows = [
        {**base, "app": "flask", "server": "gunicorn", "db": "sqlite", "rps": 300.0},
        {**base, "app": "flask", "server": "gunicorn", "db": "postgres", "rps": 200.0},
        {**base, "app": "flask", "server": "gevent", "db": "postgres", "rps": 250.0},
        {**base, "app": "flask", "server": "gevent", "db": "sqlite", "rps": 280.0},
    ]
    cells = a.aggregate_cells(a.frame_from_rows(rows))
    first = a.headline_cells(cells, preferred_servers={"flask": "gunicorn"})
    assert list(first[c.DB]) == ["postgres"] and list(first[c.SERVER]) == ["gunicorn"]
    on_sqlite = a.headline_cells(cells, preferred_servers={"flask": "gunicorn"}, db="sqlite")
    assert list(on_sqlite[a.median_of(c.RPS)]) == [300.0]
    concurrent = a.headline_cells(
        cells, preferred_servers={"flask": "gunicorn"}, scenario_servers={("flask", "db"): "gevent"}
    )
    assert list(concurrent[c.SERVER]) == ["gevent"] and list(concurrent[c.DB]) == ["postgres"]
    assert a.ordered_databases(["sqlite", "mysql", "postgres"]) == ["postgres", "sqlite", "mysql"]


def test_startup_and_memory_count_each_server_start_once() -> None:
    from dataclasses import replace

    rows = synthetic_rows(apps=("flask",), scenarios=("json", "db"))
    # Three cells on one server start (1.0 s, 20 ms, 60 MB), one on a second start (3.0 s, 40 ms, 80 MB).
    starts = [(1.0, 20.0, 60.0)] * (len(rows) - 1) + [(3.0, 40.0, 80.0)]
    rows = [
        replace(row, startup_s=s, first_request_ms=ms, rest_pss_mb=mb, workers=2)
        for row, (s, ms, mb) in zip(rows, starts, strict=True)
    ]
    table = a.startup_and_memory(a.frame_from_rows([row.__dict__ for row in rows]))
    (record,) = table.to_dict(orient="records")
    assert record["startup_s"] == pytest.approx(2.0)  # the median of the two starts, not of the cells
    assert record["first_request_ms"] == pytest.approx(30.0)
    assert record[a.REST_MEMORY_PER_WORKER] == pytest.approx(35.0)  # (60 + 80) / 2 MB over 2 workers

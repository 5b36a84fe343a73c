"""bench/report/charts.py: inline SVG that references nothing outside itself, deterministic, with unique ids
per chart; charts with nothing to show are left out."""

from __future__ import annotations

import re

import pandas as pd

from bench.report import aggregate as a
from bench.report import charts
from bench.results import ResultRow, rows_to_dicts
from tests.bench.synthetic_run import flag, synthetic_rows


def cells_of(rows: list[ResultRow]) -> pd.DataFrame:
    return a.aggregate_cells(a.frame_from_rows(rows_to_dicts(rows)))


def test_run_charts_are_inline_svg_without_external_references() -> None:
    rows = synthetic_rows(users=(16, 64))
    rows = flag(rows, app="fastapi", scenario="plaintext", generator_bound=True, rps=12_500.0)
    rows = flag(rows, app="flask", scenario="io", error="died")
    made = charts.run_charts(cells_of(rows))
    assert [chart.name for chart in made] == ["throughput", "latency", "users", "cpu", "memory"]
    for chart in made:
        assert chart.svg.startswith("<svg "), chart.name
        assert chart.svg.rstrip().endswith("</svg>")
        assert not re.search(r'(href|src)="(?!#)', chart.svg), (
            f"{chart.name} references something outside itself"
        )
        assert "<script" not in chart.svg
    ids = [found for chart in made for found in re.findall(r'id="([^"]+)"', chart.svg)]
    assert len(ids) == len(set(ids)), "two charts share an SVG id: one page would render the wrong clip path"


def test_charts_are_deterministic() -> None:
    cells = cells_of(synthetic_rows(scenarios=("json", "db")))
    assert charts.throughput_chart(cells) == charts.throughput_chart(cells)


def test_users_chart_needs_several_user_counts() -> None:
    assert charts.users_chart(cells_of(synthetic_rows(users=(64,)))) is None
    assert charts.users_chart(cells_of(synthetic_rows(users=(16, 64)))) is not None


def test_single_trial_run_still_charts_without_error_bars() -> None:
    made = charts.run_charts(cells_of(synthetic_rows(trials=1)))
    assert {chart.name for chart in made} >= {"throughput", "latency", "cpu", "memory"}


def test_all_failed_run_has_no_chart() -> None:
    rows = synthetic_rows(scenarios=("json",))
    for app in ("fastapi", "flask", "django"):
        rows = flag(rows, app=app, scenario="json", error="server did not start", rps=0.0)
    assert charts.run_charts(cells_of(rows)) == []


def test_memory_chart_needs_measured_memory() -> None:
    rows = [
        ResultRow(**{**row.__dict__, "server_rss_mb": 0.0, "server_pss_mb": None})
        for row in synthetic_rows(scenarios=("json",))
    ]
    assert charts.memory_chart(cells_of(rows)) is None


def test_history_chart_needs_two_runs_of_a_scenario() -> None:
    one = a.frame_from_rows(rows_to_dicts(synthetic_rows(scenarios=("json",), seed=1)))
    two = a.frame_from_rows(rows_to_dicts(synthetic_rows(scenarios=("json", "db"), seed=2)))
    single = a.headline_history([("run-1", one)], preferred_servers={})
    assert charts.history_chart(single, scenarios=["json"]) is None
    both = a.headline_history([("run-1", one), ("run-2", two)], preferred_servers={})
    chart = charts.history_chart(both, scenarios=["json", "db"])
    assert chart is not None
    assert "run-1" in chart.svg and "run-2" in chart.svg
    assert ">db<" not in chart.svg, "db ran once: it has no history panel"

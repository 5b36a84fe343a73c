"""bench/report/charts.py: inline SVG that references nothing outside itself, deterministic, with unique ids
per chart; charts with nothing to show are left out."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

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


BAR_SPECS = (charts.THROUGHPUT, charts.LATENCY, charts.CPU, charts.MEMORY)


def flagged_run() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the cells and the trials of a run with one
    generator-bound cell (fastapi plaintext) and one failed cell (flask io)."""
    rows = flag(synthetic_rows(), app="fastapi", scenario="plaintext", generator_bound=True, rps=12_500.0)
    rows = flag(rows, app="flask", scenario="io", error="died", rps=0.0)
    trials = a.frame_from_rows(rows_to_dicts(rows))
    return a.aggregate_cells(trials), trials


def panels_of(cells: pd.DataFrame, spec: charts.BarSpec) -> dict[str, Axes]:
    made = charts.bar_figure(cells, spec)
    assert made is not None, spec.name
    return {axes.get_title(): axes for axes in made[0].axes if axes.get_visible()}


def bars(axes: Axes) -> list[Rectangle]:
    return [patch for patch in axes.patches if isinstance(patch, Rectangle)]


def test_every_bar_starts_at_zero_on_a_linear_axis() -> None:
    flagged, _ = flagged_run()
    for cells in (flagged, cells_of(synthetic_rows(scenarios=("json", "plaintext"), trials=1))):
        for spec in BAR_SPECS:
            for title, axes in panels_of(cells, spec).items():
                where = f"{spec.name} {title}"
                assert axes.get_yscale() == "linear", where
                assert axes.get_ylim()[0] == 0, where
                assert all(bar.get_y() == 0 and bar.get_height() > 0 for bar in bars(axes)), where


def test_scenarios_far_apart_get_a_scale_each() -> None:
    # Throughput from 140 (django io) to 9,000 req/s (fastapi plaintext): one scale would flatten io.
    cells = cells_of(synthetic_rows())
    assert list(panels_of(cells, charts.THROUGHPUT)) == ["plaintext", "json", "db", "fortunes", "api", "io"]
    chart = charts.throughput_chart(cells)
    assert chart is not None and "each scenario has its own scale" in chart.caption
    assert "log" not in chart.caption
    # Memory per worker is much the same in every scenario: one panel, one scale, every scenario on its axis.
    (memory,) = panels_of(cells, charts.MEMORY).values()
    assert [tick.get_text() for tick in memory.get_xticklabels()][:2] == ["plaintext", "json"]
    memory_chart = charts.memory_chart(cells)
    assert memory_chart is not None and "on one scale for every scenario" in memory_chart.caption


def test_generator_bound_cell_shows_its_measured_cpu_per_request_marked() -> None:
    cells, trials = flagged_run()
    bound = trials[(trials["app"] == "fastapi") & (trials["scenario"] == "plaintext")]
    measured = float(bound["cpu_ms_per_request"].median())
    plaintext = bars(panels_of(cells, charts.CPU)["plaintext"])
    assert len(plaintext) == 3, "the generator-bound cell's CPU per request must not be dropped"
    (marked,) = [bar for bar in plaintext if bar.get_hatch() == charts.BOUND_HATCH]
    assert marked.get_height() == pytest.approx(measured)
    assert marked.get_fill() and marked.get_facecolor()[3] == 1, "measured: filled, unlike a lower bound"
    cpu = next(chart for chart in charts.run_charts(a.aggregate_cells(trials)) if chart.name == "cpu")
    assert "CPU per request is measured" in cpu.caption


def test_generator_bound_cell_shows_its_latency_marked_and_its_throughput_as_a_lower_bound() -> None:
    cells, _ = flagged_run()
    latency = bars(panels_of(cells, charts.LATENCY)["plaintext"])
    assert len(latency) == 6, "p50 and p99 of three apps"
    assert len([bar for bar in latency if bar.get_hatch() == charts.BOUND_HATCH]) == 2
    chart = charts.latency_chart(cells)
    assert chart is not None and "generator's queueing as much as the server's" in chart.caption
    throughput = bars(panels_of(cells, charts.THROUGHPUT)["plaintext"])
    (lower_bound,) = [bar for bar in throughput if bar.get_hatch() == charts.BOUND_HATCH]
    assert lower_bound.get_height() == pytest.approx(12_500.0)
    assert lower_bound.get_facecolor()[3] == 0, "a lower bound is an outline"


def red_crosses(axes: Axes) -> int:
    return len([text for text in axes.texts if text.get_text() == "x" and text.get_color() == "red"])


def test_failed_cell_has_no_bar_but_a_red_x() -> None:
    cells, _ = flagged_run()
    for spec in (charts.THROUGHPUT, charts.LATENCY, charts.CPU):
        io = panels_of(cells, spec)["io"]
        assert len(bars(io)) == 2 * len(spec.metrics), f"{spec.name}: flask failed io, two apps remain"
        assert red_crosses(io) == len(spec.metrics), spec.name
    (memory,) = panels_of(cells, charts.MEMORY).values()  # one scale: every scenario on one panel
    assert len(bars(memory)) == 3 * 6 - 1
    assert red_crosses(memory) == 1


def test_generator_bound_cell_without_its_cpu_is_marked_not_measured() -> None:
    rows = flag(synthetic_rows(), app="fastapi", scenario="plaintext", generator_bound=True, rps=12_500.0)
    # Trials whose server CPU was not measured (as against an external target).
    rows = [
        replace(row, cpu_ms_per_request=None) if (row.app, row.scenario) == ("fastapi", "plaintext") else row
        for row in rows
    ]
    plaintext = panels_of(cells_of(rows), charts.CPU)["plaintext"]
    assert len(bars(plaintext)) == 2
    assert [text.get_text() for text in plaintext.texts] == ["?"]
    chart = charts.cpu_chart(cells_of(rows))
    assert chart is not None and "not measured" in chart.caption

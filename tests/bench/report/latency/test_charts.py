"""bench/report/latency/charts.py: one chart per scenario and database, corrected p99 on a log axis against
the offered rate from zero, the target across, the charts' colours, hollow points where the generator fell
behind; inline SVG like the other charts."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench.columns import APP, SERVER
from bench.report import aggregate as a
from bench.report.charts import series_colors
from bench.report.latency.cells import CellSweep, sweep_cells
from bench.report.latency.charts import (
    BEHIND_LABEL,
    LOWER_BOUND_LABEL,
    THIN_LABEL,
    chart_name,
    latency_charts,
    latency_figure,
)
from bench.report.latency.targets import (
    latency_targets,
)
from bench.results import ResultRow, rows_to_dicts
from tests.bench.report.synthetic_sweep import sweep, with_sweep, with_sweeps
from tests.bench.synthetic_run import synthetic_rows


def cells_of(rows: list[ResultRow]) -> list[CellSweep]:
    frame = a.frame_from_rows(rows_to_dicts(rows))
    return sweep_cells(frame, latency_targets(frame))


def two_database_cells() -> list[CellSweep]:
    rows = with_sweeps(synthetic_rows(scenarios=("db", "api", "json")), scenarios=("db", "api"))
    return cells_of(
        [replace(row, db="postgres") for row in rows] + [row for row in rows if row.scenario == "db"]
    )


def hollow_points(figure: Figure) -> list[PathCollection]:
    """Return the figure's marks drawn hollow (white inside): the steps whose generator fell behind."""
    return [
        c
        for c in figure.axes[0].collections
        if isinstance(c, PathCollection) and len(c.get_facecolors()) and tuple(c.get_facecolors()[0]) == WHITE
    ]


WHITE = (1.0, 1.0, 1.0, 1.0)


def test_one_chart_per_scenario_and_database_postgres_first() -> None:
    charts = latency_charts(two_database_cells())
    assert [chart.name for chart in charts] == [
        chart_name("db", "postgres"),
        chart_name("api", "postgres"),
        chart_name("db", "sqlite"),
    ]
    for chart in charts:
        assert chart.svg.startswith("<svg ") and chart.svg.rstrip().endswith("</svg>")
        assert not re.search(r'(href|src)="(?!#)', chart.svg), (
            f"{chart.name} references something outside itself"
        )
        assert "p99 ≤ 20.0 ms" in chart.svg, "the target's legend entry"
        assert "10 × 2 ms" in chart.caption, "the caption says how the target was chosen"
    ids = [found for chart in charts for found in re.findall(r'id="([^"]+)"', chart.svg)]
    assert len(ids) == len(set(ids)), "two charts share an SVG id"


def test_charts_are_deterministic() -> None:
    cells = two_database_cells()
    assert latency_charts(cells) == latency_charts(cells)


def test_p99_on_a_log_axis_against_the_offered_rate_from_zero_with_the_target_across() -> None:
    cells = [cell for cell in two_database_cells() if cell.key[2] == "db" and cell.key[4] == "sqlite"]
    colors = series_colors(pd.DataFrame({APP: [c.key[0] for c in cells], SERVER: [c.key[1] for c in cells]}))

    made = latency_figure(cells, target=cells[0].target, colors=colors)

    assert made is not None
    figure, marked = made
    (axes,) = figure.axes
    assert axes.get_yscale() == "log" and axes.get_xscale() == "linear"
    assert axes.get_xlim()[0] == 0
    lines = axes.get_lines()
    solid = {line.get_label(): line for line in lines if line.get_linestyle() == "-"}
    assert set(solid) == {"django", "fastapi", "flask"}
    for cell in cells:
        line = solid[cell.label]
        assert line.get_marker() == "o", "a marker at each step"
        assert list(line.get_xdata()) == [point.offered_rps for point in cell.curve]
        assert list(line.get_ydata()) == [point.p99_ms for point in cell.curve]
        assert line.get_color() == colors[cell.label], "the colours of the other charts"
    dotted = [line for line in lines if line.get_linestyle() == ":"]
    assert len(dotted) == 3, "the uncorrected p99 of each cell"
    (target,) = [line for line in lines if line.get_linestyle() == "--"]
    assert list(target.get_ydata()) == [20.0, 20.0]
    assert not marked and not hollow_points(figure)


def test_steps_whose_generator_fell_behind_are_hollow_points() -> None:
    (row,) = synthetic_rows(apps=("flask",), scenarios=("db",), trials=1)
    steps = sweep(peak=1000.0, p99s=[4.0, 5.0, 6.0, 30.0, 60.0, 300.0], changes={1.25: {"behind": True}})
    cells = cells_of([with_sweep(row, steps)])

    made = latency_figure(cells, target=cells[0].target, colors={"flask": (0.1, 0.2, 0.3, 1.0)})

    assert made is not None
    figure, marked = made
    (hollow,) = hollow_points(figure)
    assert marked and [tuple(xy) for xy in hollow.get_offsets()] == [(1250.0, 300.0)]
    assert tuple(hollow.get_facecolors()[0]) == (1.0, 1.0, 1.0, 1.0)
    legend = figure.legends[0]
    assert BEHIND_LABEL in [text.get_text() for text in legend.get_texts()]
    (chart,) = latency_charts(cells)
    assert "fell behind" in chart.caption and BEHIND_LABEL in chart.svg


def test_a_p99_from_few_requests_is_crossed_and_one_with_failures_in_it_is_a_lower_bound() -> None:
    (row,) = synthetic_rows(apps=("flask",), scenarios=("db",), trials=1)
    # At a peak of 1,000 req/s a 2 s step holds 500 requests at 25%, 1,000 from 50% on.
    steps = sweep(peak=1000.0, p99s=[4.0, 5.0, 6.0, 30.0, 60.0, 2000.0])
    steps[-2]["p99_lower_bound"] = True  # the 125% step
    cells = cells_of([with_sweep(row, steps)])
    assert [point.above_p99 for point in cells[0].curve] == [5, 10, 15, 18, 20, 25]

    made = latency_figure(cells, target=cells[0].target, colors={"flask": (0.1, 0.2, 0.3, 1.0)})

    assert made is not None
    figure, _ = made
    offsets = [[tuple(xy) for xy in c.get_offsets()] for c in figure.axes[0].collections]
    assert [(250.0, 4.0)] in offsets, "the 25% step's p99 rests on 5 requests"
    assert [(1250.0, 2000.0)] in offsets, "the 125% step's p99 is a lower bound"
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert THIN_LABEL in legend and LOWER_BOUND_LABEL in legend
    (chart,) = latency_charts(cells)
    assert "rests on the requests above it: 5 to 25 here" in chart.caption


@pytest.mark.parametrize("several", [False, True])
def test_several_user_counts_are_separate_lines(several: bool) -> None:
    rows = with_sweeps(
        synthetic_rows(apps=("flask",), scenarios=("db",), users=(16, 64) if several else (64,))
    )
    cells = cells_of(rows)
    made = latency_figure(cells, target=cells[0].target, colors={"flask": (0.1, 0.2, 0.3, 1.0)})
    assert made is not None
    labels = [line.get_label() for line in made[0].axes[0].get_lines() if isinstance(line, Line2D)]
    expected = ["flask, 16 users", "flask, 64 users"] if several else ["flask"]
    assert [label for label in labels if label.startswith("flask")] == expected


def test_no_chart_when_no_step_has_a_p99() -> None:
    (row,) = synthetic_rows(apps=("flask",), scenarios=("db",), trials=1)
    cells = cells_of([with_sweep(row, sweep(peak=1000.0, p99s=[None] * 6))])
    assert latency_charts(cells) == []

"""The open-loop sweep's charts: per scenario and database, corrected p99 against the offered rate, one line
per app and server, the latency target across. Inline SVG like bench.report.charts' charts, in its colours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Final

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, NullFormatter

from bench.columns import APP, SERVER
from bench.report.aggregate import ordered_databases
from bench.report.charts import (
    FIGURE_WIDTH_IN,
    PLAIN_NUMBERS,
    Chart,
    Colors,
    figure_legend,
    figure_svg,
    series_colors,
)
from bench.report.latency.cells import TAIL_SHARE, THIN_P99_REQUESTS, CellSweep, CurvePoint
from bench.report.latency.targets import (
    LatencyTarget,
)
from bench.report.rows import ordered_scenarios
from bench.report.table import format_ms

CHART_HEIGHT_IN = 4.2
TARGET_COLOR = "grey"
TARGET_LINE: Final = "--"
UNCORRECTED_LINE: Final = ":"
UNCORRECTED_ALPHA = 0.8
BEHIND_LABEL = "load generator fell behind"
THIN_LABEL = f"p99 of < {THIN_P99_REQUESTS:,} requests: ≈ the max of ≤ {int(THIN_P99_REQUESTS * TAIL_SHARE)}"
LOWER_BOUND_LABEL = "≥: failures in the p99, counted at the timeout"


def chart_name(scenario: str, db: str) -> str:
    """Return the stable id of one scenario's and database's latency chart."""
    return f"open-loop-{scenario}-{db}"


def _colors(cells: Sequence[CellSweep]) -> Colors:
    # Labelled and coloured over every swept cell of the run, as CellSweep.label is.
    return series_colors(
        pd.DataFrame({APP: [cell.key[0] for cell in cells], SERVER: [cell.key[1] for cell in cells]})
    )


def _line_label(cell: CellSweep, several_users: bool) -> str:
    return f"{cell.label}, {cell.key[3]} users" if several_users else cell.label


def latency_figure(
    cells: Sequence[CellSweep], *, target: LatencyTarget, colors: Colors
) -> tuple[Figure, bool] | None:
    """Return the figure of one scenario's cells and whether it marks a step whose generator fell behind; None
    when no step has a p99."""
    if not any(math.isfinite(point.p99_ms) for cell in cells for point in cell.curve):
        return None
    figure = Figure(figsize=(FIGURE_WIDTH_IN * 0.8, CHART_HEIGHT_IN), layout="constrained")
    axes = figure.subplots()
    several_users = len({cell.key[3] for cell in cells}) > 1
    marked = False
    handles: list[Line2D] = []
    for cell in cells:
        color = colors[cell.label]
        offered = [point.offered_rps for point in cell.curve]
        (line,) = axes.plot(
            offered,
            [point.p99_ms for point in cell.curve],
            marker="o",
            color=color,
            label=_line_label(cell, several_users),
        )
        handles.append(line)
        uncorrected = [point.uncorrected_p99_ms for point in cell.curve]
        axes.plot(offered, uncorrected, color=color, linestyle=UNCORRECTED_LINE, alpha=UNCORRECTED_ALPHA)
        behind = [point for point in cell.curve if point.behind and math.isfinite(point.p99_ms)]
        if behind:  # hollow: that step's latency is partly the generator's
            marked = True
            axes.scatter(
                [point.offered_rps for point in behind],
                [point.p99_ms for point in behind],
                s=60,
                marker="o",
                facecolors="white",
                edgecolors=color,
                linewidths=1.5,
                zorder=3,
            )
    thin = _mark(axes, cells, colors, lambda point: point.thin, marker="x")
    bounded = _mark(axes, cells, colors, lambda point: point.lower_bound, marker="^")
    for shown, marker, label in ((thin, "x", THIN_LABEL), (bounded, "^", LOWER_BOUND_LABEL)):
        if shown:
            handles.append(Line2D([], [], color="grey", marker=marker, linestyle="none", label=label))
    if math.isfinite(target.ms):
        axes.axhline(target.ms, color=TARGET_COLOR, linestyle=TARGET_LINE)
        label = f"target: p99 ≤ {format_ms(target.ms)} ms"
        handles.append(Line2D([], [], color=TARGET_COLOR, linestyle=TARGET_LINE, label=label))
    uncorrected_label = "p99 from the actual send (uncorrected)"
    handles.append(Line2D([], [], color="grey", linestyle=UNCORRECTED_LINE, label=uncorrected_label))
    if marked:
        handles.append(
            Line2D(
                [],
                [],
                color="grey",
                marker="o",
                markerfacecolor="white",
                linestyle="none",
                label=BEHIND_LABEL,
            )
        )
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(PLAIN_NUMBERS)
    axes.yaxis.set_minor_formatter(NullFormatter())
    axes.set_xlim(left=0)
    axes.xaxis.set_major_formatter(PLAIN_NUMBERS)
    axes.set_xlabel("offered rate (requests per second)")
    axes.set_ylabel("p99 from the planned start (ms)")
    axes.grid(alpha=0.3, which="both")
    figure_legend(figure, handles)
    return figure, marked


def _mark(
    axes: Axes,
    cells: Sequence[CellSweep],
    colors: Colors,
    which: Callable[[CurvePoint], bool],
    *,
    marker: str,
) -> bool:
    """Draw a marker over every step `which` picks; return whether it picked any."""
    picked = False
    for cell in cells:
        points = [point for point in cell.curve if which(point) and math.isfinite(point.p99_ms)]
        if points:
            picked = True
            axes.scatter(
                [point.offered_rps for point in points],
                [point.p99_ms for point in points],
                s=70,
                marker=marker,
                color=colors[cell.label],
                zorder=4,
            )
    return picked


def latency_charts(cells: Sequence[CellSweep]) -> list[Chart]:
    """Return one chart per scenario and database with a sweep, in the report's order (PostgreSQL first)."""
    colors = _colors(cells)
    charts = []
    for db in ordered_databases(cell.key[4] for cell in cells):
        on_db = [cell for cell in cells if cell.key[4] == db]
        for scenario in ordered_scenarios(cell.key[2] for cell in on_db):
            mine = [cell for cell in on_db if cell.key[2] == scenario]
            target = mine[0].target
            if (made := latency_figure(mine, target=target, colors=colors)) is None:
                continue
            figure, marked = made
            name, title = chart_name(scenario, db), f"p99 against offered rate: {scenario}, on {db}"
            caption = (
                "Each point is one step of the open-loop sweep, the median over its trials: the offered rate "
                "across, the p99 measured from each request's planned start up, on a log scale. Solid lines: "
                "that corrected p99; dotted: the same "
                "requests' p99 from when they were actually sent, which leaves out the time a request waited "
                "before it could be sent (what a closed loop reports)."
                + (
                    f" Dashed: the target, {target.rule}."
                    if math.isfinite(target.ms)
                    else " No target: no unloaded step was measured."
                )
                + _samples_note(mine)
                + (
                    " Hollow points: the load generator fell behind its schedule in that step in some trial, "
                    "so their latency is partly the generator's."
                    if marked
                    else ""
                )
            )
            charts.append(Chart(name, title, caption, figure_svg(figure, name=name, title=title)))
    return charts


def _samples_note(cells: Sequence[CellSweep]) -> str:
    """Return how many requests above it each step's p99 rests on, from the fewest to the most."""
    counts = [point.above_p99 for cell in cells for point in cell.curve if math.isfinite(point.requests)]
    if not counts:
        return ""
    return (
        f" A step's p99 rests on the requests above it: {min(counts):,} to {max(counts):,} here (1% of the "
        f"step's requests). Crossed points: fewer than {THIN_P99_REQUESTS:,} requests, so the p99 is nearly "
        "the step's maximum, one hiccup's worth; triangles: failed or timed-out requests are in the p99, "
        "counted at the client's timeout, so it is a lower bound."
    )

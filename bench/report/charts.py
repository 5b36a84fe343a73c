"""The report's charts: matplotlib figures rendered to inline SVG strings (no file, no external resource).

Every chart takes the aggregated cells of bench.report.aggregate and returns None when the run has nothing
to show for it (a single user count, no earlier run, ...): the report leaves it out rather than draw an empty
box. Bars always start at zero on a linear axis, so their lengths compare as the numbers do; when one scale
cannot show every scenario's bars readably, each scenario gets its own panel (small multiples).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import matplotlib

matplotlib.use("Agg")  # no display on a benchmark machine; the SVG backend renders the files

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from bench.columns import APP, CPU_MS_PER_REQUEST, DB, LATENCY_P50, LATENCY_P99, RPS, SCENARIO, SERVER, USERS
from bench.report.aggregate import (
    BOUND_RPS,
    MEMORY_PER_WORKER,
    RUN,
    STATUS,
    STATUS_ERROR,
    STATUS_GENERATOR_BOUND,
    bound_median_of,
    ci_high_of,
    ci_low_of,
    median_of,
    ordered_databases,
)
from bench.report.rows import ordered_scenarios

APP_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
SERVER_SHADES = (1.0, 0.55, 0.3)  # a second or third server variant of one app: same colour, lighter
FIGURE_WIDTH_IN = 11.0
BAR_HEIGHT_IN = 4.2
PANEL_HEIGHT_IN = 2.6
SERIES = "series"
# Below a tenth of the axis a bar's length can no longer be read or compared with its neighbours': past this
# ratio between a chart's largest and smallest value, each scenario gets its own scale.
SHARED_SCALE_SPAN = 10.0
BOUND_HATCH = "///"
# The metrics measured on the server's side, which stay valid when the load generator was the limit.
# What a panel drew besides plain bars: the legend and captions explain only what is there.
LOWER_BOUND, BOUND, FAILED, UNMEASURED = "lower bound", "bound", "failed", "unmeasured"
SHOWN = "shown "  # + metric: the value a cell's bar shows (see _shown)
Colors = dict[str, tuple[float, float, float, float]]
PLAIN_NUMBERS = FuncFormatter(lambda value, _: f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}")


@dataclass(frozen=True)
class Chart:
    name: str  # a stable id, used for anchors and SVG ids
    title: str
    caption: str  # how to read it
    svg: str


def figure_svg(figure: Figure, *, name: str, title: str) -> str:
    """Return the figure as an inline SVG element, the same at every build, its ids prefixed with name."""
    buffer = io.StringIO()
    # A fixed salt (the default is random) and no date: the same results give the same SVG at every build.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": name}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # The RDF block only names matplotlib and its licence namespaces: nothing a reader needs.
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)
    # matplotlib numbers its groups (figure_1, patch_1, ...) afresh in every file: prefix every id and every
    # reference to one, so that several charts in one page never share an id.
    text = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{name}-\1"', text)
    label = title.replace('"', "'")
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" class="chart" ', 1)


def series_labels(cells: pd.DataFrame) -> pd.Series:
    """Return the legend label of each cell: the app, plus its server when the app ran on several."""
    servers_per_app = cells.groupby(APP)[SERVER].transform("nunique")
    labels = [
        f"{app} ({server})" if count > 1 else str(app)
        for app, server, count in zip(cells[APP], cells[SERVER], servers_per_app, strict=True)
    ]
    return pd.Series(labels, index=cells.index)


def series_colors(cells: pd.DataFrame) -> Colors:
    """Return each series label's colour (see series_labels): one per app, lighter for its other servers."""
    apps = sorted(set(cells[APP]))
    colors: Colors = {}
    for app in apps:
        base = matplotlib.colors.to_rgb(APP_COLORS[apps.index(app) % len(APP_COLORS)])
        servers = sorted(set(cells.loc[cells[APP] == app, SERVER]))
        for index, server in enumerate(servers):
            shade = SERVER_SHADES[min(index, len(SERVER_SHADES) - 1)]
            rgb = tuple(1 - shade * (1 - channel) for channel in base)
            label = f"{app} ({server})" if len(servers) > 1 else app
            colors[label] = (rgb[0], rgb[1], rgb[2], 1.0)
    return colors


def at_largest_users(cells: pd.DataFrame) -> pd.DataFrame:
    """Return, per scenario, the cells at the largest user count that ran for it."""
    largest = cells.groupby(SCENARIO)[USERS].transform("max")
    chosen = cells[cells[USERS] == largest].copy()
    chosen[SERIES] = series_labels(chosen)
    return chosen


def _shown(chosen: pd.DataFrame, metric: str) -> pd.Series:
    """Return the value each cell's bar of metric shows: its median, else what its bound trials measured."""
    # A generator-bound cell has no valid trial, hence no median; a failed cell has neither value.
    column = BOUND_RPS if metric == RPS else bound_median_of(metric)
    bound = chosen[column] if column in chosen else pd.Series(math.nan, index=chosen.index)
    return chosen[median_of(metric)].fillna(bound)


def _draw_bar(
    axes: Axes, x: float, width: float, cell: pd.Series, metric: str, color: object, ci: bool
) -> str:
    """Draw one cell's bar, or its mark where it has none; return the mark ("" for a plain bar)."""
    status, value = cell[STATUS], float(cell[SHOWN + metric])
    if status == STATUS_ERROR or not math.isfinite(value):  # no bar: say why, rather than leave a silent gap
        text, tint, mark = ("x", "red", FAILED) if status == STATUS_ERROR else ("?", "grey", UNMEASURED)
        axes.annotate(
            text, (x, 0.02), xycoords=("data", "axes fraction"), ha="center", weight="bold", color=tint
        )
        return mark
    if status == STATUS_GENERATOR_BOUND and metric == RPS:  # an outline: the app can do at least that much
        axes.bar(x, value, width, color="none", edgecolor=color, hatch=BOUND_HATCH)
        return LOWER_BOUND
    if status == STATUS_GENERATOR_BOUND:  # measured on the server, filled, but marked
        axes.bar(x, value, width, color=color, edgecolor="white", hatch=BOUND_HATCH)
        return BOUND
    error = None
    if ci:
        low, high = float(cell[ci_low_of(metric)]), float(cell[ci_high_of(metric)])
        error = np.nan_to_num(np.array([[value - low], [high - value]]), nan=0.0)
    axes.bar(x, value, width, yerr=error, capsize=2, color=color)
    return ""


# One group of bars on a panel's x axis: its tick label, and the scenario and metric each app's bar shows.
Group = tuple[str, str, str]


def _bar_panel(
    axes: Axes, chosen: pd.DataFrame, groups: Sequence[Group], colors: Colors, ci: bool
) -> set[str]:
    """Draw one bar per app and group, from zero on a linear axis; return the marks drawn."""
    width = 0.8 / max(len(colors), 1)
    marks: set[str] = set()
    by_cell = {(str(cell[SERIES]), str(cell[SCENARIO])): cell for _, cell in chosen.iterrows()}
    for index, label in enumerate(sorted(colors)):
        for position, (_, scenario, metric) in enumerate(groups):
            if (cell := by_cell.get((label, scenario))) is not None:
                x = position - 0.4 + width * (index + 0.5)
                marks.add(_draw_bar(axes, x, width, cell, metric, colors[label], ci))
    ticks = [tick for tick, _, _ in groups]
    rotate = len(groups) > 3
    if any(ticks):
        axes.set_xticks(
            range(len(groups)), ticks, rotation=30 if rotate else 0, ha="right" if rotate else "center"
        )
    else:
        axes.set_xticks([])
    axes.set_xlim(-0.5, len(groups) - 0.5)  # every app's slot, so a failed cell's x sits where its bar would
    axes.set_yscale("linear")
    axes.set_ylim(bottom=0)  # after drawing: the top stays autoscaled, the bottom is zero whatever is drawn
    axes.yaxis.set_major_formatter(PLAIN_NUMBERS)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    return marks - {""}


def _panels(count: int, *, columns: int, height: float) -> tuple[Figure, list[Axes]]:
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(FIGURE_WIDTH_IN, height * rows + 0.6), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    flat = [axes for row in grid for axes in row]
    for spare in flat[count:]:
        spare.set_visible(False)
    return figure, flat[:count]


LIMIT = "load generator was the limit"
MARKS: dict[str, tuple[Patch | Line2D, str]] = {  # each mark's legend entry and caption, in their order
    LOWER_BOUND: (
        Patch(facecolor="none", edgecolor="grey", hatch=BOUND_HATCH, label=LIMIT),
        "Hatched, unfilled bars: the load generator was the limit, so the app can do at least that much.",
    ),
    BOUND: (Patch(facecolor="grey", edgecolor="white", hatch=BOUND_HATCH, label=LIMIT), ""),  # BarSpec's note
    FAILED: (
        Line2D([], [], color="red", marker="x", linestyle="none", label="failed"),
        "A red x: the cell failed (see the warnings) and has no bar.",
    ),
    UNMEASURED: (
        Line2D([], [], color="grey", marker="$?$", linestyle="none", label="not measured"),
        "A grey ?: the cell ran but this figure was not measured.",
    ),
}


def figure_legend(figure: Figure, handles: Sequence[Artist]) -> None:
    """Put the handles' legend above the figure's panels (nothing without handles)."""
    if handles:
        figure.legend(handles=handles, loc="outside upper center", ncols=min(len(handles), 6), frameon=False)


@dataclass(frozen=True)
class BarSpec:
    """One bar chart of the run: what it shows and how to read it."""

    name: str
    title: str
    metrics: tuple[tuple[str, str], ...]  # each metric and its label, shown when there are several
    unit: str
    ci: bool  # whiskers: the 95% bootstrap interval of the median
    caption: str  # the chart's own part: bar_chart adds how to read its scale and its marks
    bound_note: str = ""  # how to read a generator-bound cell's hatched, filled bar


def bar_figure(cells: pd.DataFrame, spec: BarSpec) -> tuple[Figure, float, set[str]] | None:
    """Return spec's figure, the span of its values (largest over smallest) and the marks it drew; None when
    no cell has a value."""
    chosen = at_largest_users(cells)
    metrics = [metric for metric, _ in spec.metrics]
    for metric in metrics:
        chosen[SHOWN + metric] = _shown(chosen, metric)
    values = chosen[[SHOWN + metric for metric in metrics]].to_numpy(dtype=float).ravel()
    values = values[values > 0]  # NaN is not: failed and unmeasured cells have no bar
    if not values.size:
        return None
    span = float(values.max() / values.min())
    scenarios = ordered_scenarios(chosen[SCENARIO])
    several = len(metrics) > 1
    if span > SHARED_SCALE_SPAN:  # a panel per scenario, its metrics side by side: apps compared within it
        columns = math.ceil(len(scenarios) / math.ceil(len(scenarios) / 4))
        figure, panels = _panels(len(scenarios), columns=columns, height=PANEL_HEIGHT_IN)
        titles = scenarios
        layouts = [[(label if several else "", s, m) for m, label in spec.metrics] for s in scenarios]
        figure.supylabel(spec.unit)
    else:  # a panel per metric, every scenario on one scale
        figure, panels = _panels(len(metrics), columns=len(metrics), height=BAR_HEIGHT_IN)
        titles = [label if several else "" for _, label in spec.metrics]
        layouts = [[(s, s, metric) for s in scenarios] for metric in metrics]
        panels[0].set_ylabel(spec.unit)
    colors = series_colors(chosen)
    marks: set[str] = set()
    for axes, title, groups in zip(panels, titles, layouts, strict=True):
        marks |= _bar_panel(axes, chosen, groups, colors, spec.ci)
        axes.set_title(title)
    # Built from the colours, not from the bars: an app whose bars all failed still has its entry.
    apps = [Patch(color=color, label=label) for label, color in sorted(colors.items())]
    figure_legend(figure, [*apps, *(handle for mark, (handle, _) in MARKS.items() if mark in marks)])
    return figure, span, marks


def bar_chart(cells: pd.DataFrame, spec: BarSpec) -> Chart | None:
    """Return spec's chart, its caption saying how to read its scale and the marks it uses."""
    if (made := bar_figure(cells, spec)) is None:
        return None
    figure, span, marks = made
    scale = (
        f"Bars start at zero; each scenario has its own scale (the values span {span:,.0f}x, too much for "
        "one): compare apps within a panel, not panels with each other."
        if span > SHARED_SCALE_SPAN
        else "Bars start at zero, on one scale for every scenario."
    )
    notes = [spec.bound_note if mark == BOUND else note for mark, (_, note) in MARKS.items() if mark in marks]
    caption = " ".join([spec.caption, scale, *notes])
    return Chart(spec.name, spec.title, caption, figure_svg(figure, name=spec.name, title=spec.title))


CI_NOTE = "Whiskers: 95% bootstrap confidence interval of the median (none with one trial)."
BOUND_TRIALS = "(the median of those trials, no whiskers)"
THROUGHPUT = BarSpec(
    "throughput",
    "Throughput per scenario",
    ((RPS, "throughput"),),
    "requests per second",
    True,
    "Median requests per second over the valid trials, at the largest user count of each scenario; "
    f"higher is better. {CI_NOTE}",
)
LATENCY = BarSpec(
    "latency",
    "Latency per scenario",
    ((LATENCY_P50, "p50"), (LATENCY_P99, "p99")),
    "milliseconds",
    True,
    "Median over valid trials of each trial's 50th and 99th percentile response time, at the largest "
    "user count; lower is better. Locust is a closed loop: a slow server receives fewer requests, so "
    f"these percentiles understate stalls (coordinated omission). {CI_NOTE}",
    "Hatched bars: the load generator was the limit, so that latency is the generator's queueing as much as "
    f"the server's {BOUND_TRIALS}.",
)
CPU = BarSpec(
    "cpu",
    "Server CPU per request",
    ((CPU_MS_PER_REQUEST, "CPU per request"),),
    "server CPU ms per request",
    True,
    "CPU time of the whole server process tree divided by the requests it served; lower is better. "
    "It is the cost of a request on this machine whatever the load, and the steadiest figure of a run. "
    f"{CI_NOTE}",
    "Hatched bars: the load generator was the limit: throughput is a lower bound, CPU per request is "
    f"measured {BOUND_TRIALS} and is the fair comparison for those cells.",
)
MEMORY = BarSpec(
    "memory",
    "Memory per worker",
    ((MEMORY_PER_WORKER, "memory"),),
    "MB per worker",
    False,
    "Memory of the whole server (every process, a process manager included) at the end of the measured "
    "window, divided by its number of workers; lower is better. Proportional set size (PSS) where known: "
    "pages the workers share count once; otherwise resident size (RSS), which counts them in each process.",
    "Hatched bars: the load generator was the limit; the memory is measured all the same.",
)


def throughput_chart(cells: pd.DataFrame) -> Chart | None:
    return bar_chart(cells, THROUGHPUT)


def latency_chart(cells: pd.DataFrame) -> Chart | None:
    return bar_chart(cells, LATENCY)


def cpu_chart(cells: pd.DataFrame) -> Chart | None:
    return bar_chart(cells, CPU)


def memory_chart(cells: pd.DataFrame) -> Chart | None:
    return bar_chart(cells, MEMORY)


def users_chart(cells: pd.DataFrame) -> Chart | None:
    """Return throughput against user count for the scenarios that ran at several user counts."""
    counts = cells.groupby(SCENARIO)[USERS].nunique()
    scenarios = ordered_scenarios(str(name) for name in counts[counts > 1].index)
    if not scenarios:
        return None
    swept = cells[cells[SCENARIO].isin(scenarios)].copy()
    if swept[median_of(RPS)].isna().all() and swept[BOUND_RPS].isna().all():
        return None
    swept[SERIES] = series_labels(swept)
    colors = series_colors(swept)
    figure, panels = _panels(len(scenarios), columns=min(len(scenarios), 3), height=3.0)
    for axes, scenario in zip(panels, scenarios, strict=True):
        mine = swept[swept[SCENARIO] == scenario]
        for label, line in mine.sort_values(USERS).groupby(SERIES):
            axes.plot(
                line[USERS], line[median_of(RPS)], marker="o", color=colors[str(label)], label=str(label)
            )
            axes.fill_between(
                line[USERS], line[ci_low_of(RPS)], line[ci_high_of(RPS)], color=colors[str(label)], alpha=0.15
            )
            bound = line[line[STATUS] == STATUS_GENERATOR_BOUND]
            if len(bound):
                axes.scatter(
                    bound[USERS],
                    bound[BOUND_RPS],
                    marker="^",
                    facecolors="none",
                    edgecolors=colors[str(label)],
                )
        axes.set_title(scenario)
        axes.set_xlabel("concurrent users")
        axes.set_ylabel("req/s")
        axes.set_ylim(bottom=0)
        axes.grid(alpha=0.3)
    figure_legend(figure, panels[0].get_legend_handles_labels()[0])
    title = "Throughput against concurrent users"
    caption = (
        "Median requests per second at each user count (shaded: 95% confidence interval). A line that stops "
        "rising shows where the app saturates; a gap is a flagged or missing cell. Hollow triangles: the "
        "load generator was the limit, the app did at least that much."
    )
    return Chart("users", title, caption, figure_svg(figure, name="users", title=title))


def history_chart(history: pd.DataFrame, *, scenarios: Sequence[str]) -> Chart | None:
    """Return each app's median throughput per scenario across runs (scenarios seen in two runs or more)."""
    if history.empty or history[median_of(RPS)].isna().all():
        return None
    runs_per_scenario = history.groupby(SCENARIO)[RUN].nunique()
    shown = [s for s in scenarios if s in runs_per_scenario.index and runs_per_scenario[s] > 1]
    if not shown:
        return None
    run_order = list(dict.fromkeys(history[RUN]))
    apps = sorted(set(history[APP]))
    figure, panels = _panels(len(shown), columns=min(len(shown), 3), height=3.0)
    for axes, scenario in zip(panels, shown, strict=True):
        mine = history[history[SCENARIO] == scenario]
        for app in apps:
            line = mine[mine[APP] == app]
            positions = [run_order.index(run) for run in line[RUN]]
            color = APP_COLORS[apps.index(app) % len(APP_COLORS)]
            axes.plot(positions, line[median_of(RPS)], marker="o", color=color, label=app)
        axes.set_title(scenario)
        axes.set_xticks(range(len(run_order)), run_order, rotation=30, ha="right", fontsize=7)
        axes.set_ylabel("req/s")
        axes.set_ylim(bottom=0)
        axes.grid(alpha=0.3)
    figure_legend(figure, panels[0].get_legend_handles_labels()[0])
    title = "History: throughput across saved runs"
    caption = (
        "Median requests per second of each app in every run saved under reports/, oldest first. Runs may "
        "differ in profile, duration or machine: check their metadata.json before reading a trend into it."
    )
    return Chart("history", title, caption, figure_svg(figure, name="history", title=title))


ChartMaker = Callable[[pd.DataFrame], Chart | None]
RUN_CHARTS: tuple[ChartMaker, ...] = (throughput_chart, latency_chart, users_chart, cpu_chart, memory_chart)


def run_charts(cells: pd.DataFrame) -> list[Chart]:
    """Return every chart of one run that has something to show: one set per database when the run had
    several (PostgreSQL first), titled with it."""
    if cells.empty:
        return []
    databases = ordered_databases(cells[DB])
    charts = []
    for db in databases:
        mine = cells[cells[DB] == db]
        for make in RUN_CHARTS:
            if (chart := make(mine)) is None:
                continue
            if len(databases) > 1:
                chart = replace(chart, name=f"{chart.name}-{db}", title=f"{chart.title}, on {db}")
            charts.append(chart)
    return charts

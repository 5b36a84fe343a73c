"""The report's charts: matplotlib figures rendered to inline SVG strings (no file, no external resource).

Every chart takes the aggregated cells of bench.report.aggregate and returns None when the run has nothing
to show for it (a single user count, no earlier run, ...): the report leaves it out rather than draw an empty
box.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display on a benchmark machine; the SVG backend renders the files

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bench.columns import APP, CPU_MS_PER_REQUEST, LATENCY_P50, LATENCY_P99, RPS, SCENARIO, SERVER, USERS
from bench.report.aggregate import (
    BOUND_RPS,
    MEMORY_PER_WORKER,
    RUN,
    STATUS,
    STATUS_ERROR,
    STATUS_GENERATOR_BOUND,
    ci_high_of,
    ci_low_of,
    median_of,
)
from bench.report.rows import ordered_scenarios

APP_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
SERVER_SHADES = (1.0, 0.55, 0.3)  # a second or third server variant of one app: same colour, lighter
FIGURE_WIDTH_IN = 11.0
BAR_HEIGHT_IN = 4.2
SERIES = "series"


@dataclass(frozen=True)
class Chart:
    name: str  # a stable id, used for anchors and SVG ids
    title: str
    caption: str  # how to read it
    svg: str


def _svg(figure: Figure, *, name: str, title: str) -> str:
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


def _colors(cells: pd.DataFrame) -> dict[str, tuple[float, float, float, float]]:
    apps = sorted(set(cells[APP]))
    colors: dict[str, tuple[float, float, float, float]] = {}
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


def _grouped_bars(
    axes: Axes,
    cells: pd.DataFrame,
    metric: str,
    *,
    colors: dict[str, tuple[float, float, float, float]],
    with_ci: bool,
    show_flags: bool,
) -> None:
    scenarios = ordered_scenarios(cells[SCENARIO])
    series = sorted(set(cells[SERIES]))
    width = 0.8 / max(len(series), 1)
    positions = np.arange(len(scenarios))
    for index, label in enumerate(series):
        mine = cells[cells[SERIES] == label].set_index(SCENARIO)
        offsets = positions - 0.4 + width * (index + 0.5)
        values = [float(mine.at[s, median_of(metric)]) if s in mine.index else math.nan for s in scenarios]
        error = None
        if with_ci:
            low = [float(mine.at[s, ci_low_of(metric)]) if s in mine.index else math.nan for s in scenarios]
            high = [float(mine.at[s, ci_high_of(metric)]) if s in mine.index else math.nan for s in scenarios]
            error = np.nan_to_num(np.array([np.subtract(values, low), np.subtract(high, values)]), nan=0.0)
        axes.bar(offsets, values, width, yerr=error, capsize=2, color=colors[label], label=label)
        if not show_flags:
            continue
        for offset, scenario in zip(offsets, scenarios, strict=True):
            if scenario not in mine.index:
                continue
            status = mine.at[scenario, STATUS]
            if status == STATUS_GENERATOR_BOUND:
                bound = float(mine.at[scenario, BOUND_RPS])
                axes.bar(offset, bound, width, color="none", edgecolor=colors[label], hatch="///")
            elif status == STATUS_ERROR:
                axes.annotate(
                    "x",
                    (offset, 0.02),
                    xycoords=("data", "axes fraction"),
                    ha="center",
                    color="red",
                    weight="bold",
                )
    axes.set_xticks(positions, scenarios, rotation=30, ha="right")
    axes.grid(axis="y", which="both", alpha=0.3)
    axes.set_axisbelow(True)


def _plain_log_scale(axes: Axes) -> None:
    """Use a log scale labelled 1, 2, 5, 10, 20, ... in plain numbers: readers need not decode 10^3."""
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _: f"{value:,.0f}" if value >= 1 else f"{value:g}")
    )
    axes.yaxis.set_minor_formatter(NullFormatter())


def _bar_figure(*, panels: int = 1) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(FIGURE_WIDTH_IN, BAR_HEIGHT_IN), layout="constrained")
    axes = figure.subplots(1, panels, squeeze=False)[0]
    return figure, list(axes)


def _legend(figure: Figure, axes: Axes) -> None:
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="outside upper center", ncols=min(len(labels), 6), frameon=False)


def throughput_chart(cells: pd.DataFrame) -> Chart | None:
    """Return requests per second per scenario, one bar per app, with 95% confidence intervals."""
    chosen = at_largest_users(cells)
    if chosen[median_of(RPS)].isna().all() and chosen[BOUND_RPS].isna().all():
        return None
    figure, (axes,) = _bar_figure()
    _grouped_bars(axes, chosen, RPS, colors=_colors(chosen), with_ci=True, show_flags=True)
    _plain_log_scale(axes)
    axes.set_ylabel("requests per second (log scale)")
    _legend(figure, axes)
    title = "Throughput per scenario"
    caption = (
        "Median requests per second over the valid trials, at the largest user count of each scenario; "
        "higher is better. Whiskers: 95% bootstrap confidence interval of the median (none with one trial). "
        "Hatched, unfilled bars: the load generator was the limit, so the app can do at least that much. "
        "A red x: the cell failed (see the warnings). The scale is logarithmic: equal gaps are equal ratios."
    )
    return Chart("throughput", title, caption, _svg(figure, name="throughput", title=title))


def latency_chart(cells: pd.DataFrame) -> Chart | None:
    """Return p50 and p99 latency per scenario, one bar per app."""
    chosen = at_largest_users(cells)
    if chosen[median_of(LATENCY_P99)].isna().all():
        return None
    figure, panels = _bar_figure(panels=2)
    colors = _colors(chosen)
    for axes, metric, label in ((panels[0], LATENCY_P50, "p50"), (panels[1], LATENCY_P99, "p99")):
        _grouped_bars(axes, chosen, metric, colors=colors, with_ci=True, show_flags=False)
        _plain_log_scale(axes)
        axes.set_title(f"{label} latency")
        axes.set_ylabel("milliseconds (log scale)")
    _legend(figure, panels[0])
    title = "Latency per scenario"
    caption = (
        "Median over valid trials of each trial's 50th and 99th percentile response time, at the largest "
        "user count; lower is better. Locust is a closed loop: a slow server receives fewer requests, so "
        "these percentiles understate stalls (coordinated omission). Flagged cells have no bar."
    )
    return Chart("latency", title, caption, _svg(figure, name="latency", title=title))


def cpu_chart(cells: pd.DataFrame) -> Chart | None:
    """Return the server's CPU milliseconds per request per scenario."""
    chosen = at_largest_users(cells)
    if chosen[median_of(CPU_MS_PER_REQUEST)].isna().all():
        return None
    figure, (axes,) = _bar_figure()
    _grouped_bars(axes, chosen, CPU_MS_PER_REQUEST, colors=_colors(chosen), with_ci=True, show_flags=False)
    _plain_log_scale(axes)
    axes.set_ylabel("server CPU ms per request (log scale)")
    _legend(figure, axes)
    title = "Server CPU per request"
    caption = (
        "CPU time of the whole server process tree divided by the requests it served; lower is better. "
        "It is the cost of a request on this machine whatever the load, and the steadiest figure of a run. "
        "Flagged cells have no bar."
    )
    return Chart("cpu", title, caption, _svg(figure, name="cpu", title=title))


def memory_chart(cells: pd.DataFrame) -> Chart | None:
    """Return the resident memory per server process per scenario."""
    chosen = at_largest_users(cells)
    if chosen[median_of(MEMORY_PER_WORKER)].isna().all():
        return None
    figure, (axes,) = _bar_figure()
    _grouped_bars(axes, chosen, MEMORY_PER_WORKER, colors=_colors(chosen), with_ci=False, show_flags=False)
    axes.set_ylabel("MB per worker")
    _legend(figure, axes)
    title = "Memory per worker"
    caption = (
        "Memory of the whole server (every process, a process manager included) at the end of the measured "
        "window, divided by its number of workers; lower is better. Proportional set size (PSS) where known: "
        "pages the workers share count once; otherwise resident size (RSS), which counts them in each "
        "process. Flagged cells have no bar."
    )
    return Chart("memory", title, caption, _svg(figure, name="memory", title=title))


def _small_multiples(count: int) -> tuple[Figure, list[Axes]]:
    columns = min(count, 3)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(FIGURE_WIDTH_IN, 3.0 * rows + 0.6), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    flat = [axes for row in grid for axes in row]
    for spare in flat[count:]:
        spare.set_visible(False)
    return figure, flat[:count]


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
    colors = _colors(swept)
    figure, panels = _small_multiples(len(scenarios))
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
    _legend(figure, panels[0])
    title = "Throughput against concurrent users"
    caption = (
        "Median requests per second at each user count (shaded: 95% confidence interval). A line that stops "
        "rising shows where the app saturates; a gap is a flagged or missing cell. Hollow triangles: the "
        "load generator was the limit, the app did at least that much."
    )
    return Chart("users", title, caption, _svg(figure, name="users", title=title))


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
    figure, panels = _small_multiples(len(shown))
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
    _legend(figure, panels[0])
    title = "History: throughput across saved runs"
    caption = (
        "Median requests per second of each app in every run saved under reports/, oldest first. Runs may "
        "differ in profile, duration or machine: check their metadata.json before reading a trend into it."
    )
    return Chart("history", title, caption, _svg(figure, name="history", title=title))


ChartMaker = Callable[[pd.DataFrame], Chart | None]
RUN_CHARTS: tuple[ChartMaker, ...] = (throughput_chart, latency_chart, users_chart, cpu_chart, memory_chart)


def run_charts(cells: pd.DataFrame) -> list[Chart]:
    """Return every chart of one run that has something to show."""
    if cells.empty:
        return []
    return [chart for make in RUN_CHARTS if (chart := make(cells)) is not None]

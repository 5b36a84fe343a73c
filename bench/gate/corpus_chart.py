"""The chart of the corpus campaign: each mechanism's detection rate against the size of the change, as SVG.

x: the size buckets on a log scale (1, 2, 5, 10, 20%), y: the share of runs detected, one line per mechanism,
each point labelled with its run count. The SVG is the same for the same figures (no date, fixed ids).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on a benchmark machine

from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator, PercentFormatter

from bench.gate.corpus_rates import SIZE_BUCKETS, MechanismRates, bucket_name
from bench.report.charts import APP_COLORS, figure_svg

CHART_NAME = "gate-detection"
CHART_TITLE = "Detection rate against the size of the change"


def detection_figure(rates: list[MechanismRates]) -> Figure:
    """Return the figure: per mechanism, detection rate per size bucket that has runs, labelled n=."""
    figure = Figure(figsize=(6.4, 4.0))
    axes = figure.add_subplot()
    for index, rate in enumerate(rates):
        points = [
            (bucket, tally.hits / tally.runs, tally.runs) for bucket, tally in rate.buckets if tally.runs
        ]
        if not points:
            continue
        color = APP_COLORS[index % len(APP_COLORS)]
        sizes = [bucket * 100 for bucket, _, _ in points]
        detected = [share * 100 for _, share, _ in points]
        axes.plot(sizes, detected, marker="o", color=color, label=rate.mechanism)
        for size, share, runs in zip(sizes, detected, [n for _, _, n in points], strict=True):
            # Below its point for the second mechanism, so that two lines at 100% keep both labels readable
            # (above it near 0%, where below would fall off the axes).
            below = index % 2 == 1 and share >= 10
            axes.annotate(
                f"n={runs}",
                (size, share),
                textcoords="offset points",
                xytext=(0, -12 if below else 6),
                ha="center",
                fontsize=8,
                color=color,
            )
    axes.set_xscale("log")
    axes.set_xlim(SIZE_BUCKETS[0] * 100 / 1.3, SIZE_BUCKETS[-1] * 100 * 1.3)
    axes.xaxis.set_major_locator(FixedLocator([bucket * 100 for bucket in SIZE_BUCKETS]))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xticklabels([bucket_name(bucket) for bucket in SIZE_BUCKETS])
    axes.yaxis.set_major_formatter(PercentFormatter())
    axes.set_ylim(-5, 110)
    axes.set_xlabel("expected change in instructions per request (nearest size bucket)")
    axes.set_ylabel("runs detected")
    axes.set_title(CHART_TITLE)
    axes.grid(True, alpha=0.3)
    if any(tally.runs for rate in rates for _, tally in rate.buckets):
        axes.legend(loc="lower right")
    return figure


def detection_svg(rates: list[MechanismRates]) -> str:
    """Return the chart as a standalone SVG document, the same for the same figures."""
    return figure_svg(detection_figure(rates), name=CHART_NAME, title=CHART_TITLE) + "\n"

"""The corpus campaign's figures as rows of text, for the terminal's tables and docs/gate.md's Markdown. Pure.

One set of rows for both: the summary (each mechanism's detection per size bucket and its false alarms), the
same split busy / quiet, each patch's cells, and the runs that could not be judged.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.gate.corpus_rates import (
    SIZE_BUCKETS,
    MechanismRates,
    bucket_name,
    count,
    effect_name,
    share,
)
from bench.gate.markdown import markdown_table

Rows = list[tuple[str, ...]]

SUMMARY_HEADER = (
    "mechanism",
    *(bucket_name(bucket) for bucket in SIZE_BUCKETS),
    "at or above the min effect",
    "false alarms (unchanged)",
    "check time (unchanged, median)",
)
SPLIT_HEADER = (
    "mechanism",
    "beside",
    *(bucket_name(bucket) for bucket in SIZE_BUCKETS),
    "at or above the min effect",
    "false alarms",
)
PATCH_HEADER = ("mechanism", "patch", "cell", "expected", "bucket", "measured (median)", "runs", "detected")


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2%}"


MECHANISM_HEADER = ("size", "detected", "beside a busy loop", "quiet")


def mechanism_rows(rate: MechanismRates) -> Rows:
    """Return one mechanism's rows: each size bucket's detections, those of the changes at or above the
    minimum effect, then the unchanged runs' false alarms."""
    return [
        (
            label,
            share(tally.hits, tally.runs),
            share(*tally.beside(busy=True)),
            share(*tally.beside(busy=False)),
        )
        for label, tally in [
            *((bucket_name(bucket), tally) for bucket, tally in rate.buckets),
            (effect_name(rate.min_effects), rate.beyond_effect),
            ("unchanged: false alarms", rate.unchanged),
        ]
    ]


def _beyond(rate: MechanismRates) -> str:
    tally = rate.beyond_effect
    return f"{share(tally.hits, tally.runs)} {effect_name(rate.min_effects)}" if tally.runs else "—"


def summary_rows(rates: Sequence[MechanismRates]) -> Rows:
    """Return one row per mechanism: detection "k/n (p%)" per size bucket, false alarms "k/n", check time."""
    return [
        (
            rate.mechanism,
            *(share(tally.hits, tally.runs) for _, tally in rate.buckets),
            _beyond(rate),
            count(rate.unchanged.hits, rate.unchanged.runs),
            _seconds(rate.check_seconds),
        )
        for rate in rates
    ]


def split_rows(rates: Sequence[MechanismRates]) -> Rows:
    """Return two rows per mechanism: the runs beside a busy loop on one core, and the quiet ones."""

    return [
        (
            rate.mechanism,
            "a busy loop" if busy else "nothing (quiet)",
            *(share(*tally.beside(busy=busy)) for _, tally in rate.buckets),
            share(*rate.beyond_effect.beside(busy=busy)),
            count(*rate.unchanged.beside(busy=busy)),
        )
        for rate in rates
        for busy in (True, False)
    ]


def patch_rows(rates: Sequence[MechanismRates]) -> Rows:
    """Return one row per mechanism, patch and cell: expected and measured size, runs, detections."""
    rows: Rows = []
    for rate in rates:
        for patch in rate.patches:
            for index, cell in enumerate(patch.cells):
                first = index == 0  # a patch's runs and detections once, on its first cell's row
                rows.append(
                    (
                        rate.mechanism,
                        patch.patch if first else "",
                        cell.label,
                        _signed(cell.expected),
                        bucket_name(cell.bucket),
                        f"{_signed(cell.median_change)} (n={cell.measured})",
                        str(patch.runs) if first else "",
                        share(patch.detected, patch.runs) if first else "",
                    )
                )
    return rows


def not_judged_lines(rates: Sequence[MechanismRates]) -> list[str]:
    """Return "mechanism run: why" for every run that could not be judged (counted as not detected)."""
    return [f"{rate.mechanism} {stem}: {why}" for rate in rates for stem, why in rate.not_judged]


def corpus_markdown(rates: Sequence[MechanismRates]) -> str:
    """Return the tables docs/gate.md holds: detection per size, false alarms, the busy split, each patch."""
    lines = [
        "Detection: runs of a patch where one of its cells was judged worse, by the size bucket nearest its "
        "expected size, and over the patches at or above the check's minimum effect; false alarms: unchanged "
        "trees whose check failed.",
        "",
        *markdown_table(SUMMARY_HEADER, summary_rows(rates)),
        "",
        "Beside a busy loop on one core, and quiet:",
        "",
        *markdown_table(SPLIT_HEADER, split_rows(rates), text_columns=2),
        "",
        "Each patch (measured: the median change of the cell over its runs):",
        "",
        *markdown_table(PATCH_HEADER, patch_rows(rates), text_columns=3),
    ]
    unjudged = not_judged_lines(rates)
    if unjudged:
        lines += ["", "Runs that could not be judged (counted as not detected, or as no false alarm):", ""]
        lines += [f"- {line}" for line in unjudged]
    return "\n".join(lines) + "\n"

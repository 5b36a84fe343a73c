"""The verdicts as Markdown, for a pull request: `bench check --markdown FILE` and a CI's step summary. Pure.

One document for either mechanism: the outcome first (what a reviewer reads), then the verdict table, then
for each cell judged worse on instructions the functions whose instructions per request grew most.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.gate.decisions import GateReport, Verdict
from bench.gate.instructions.display import (
    instruction_summary,
    interval_text,
    millions,
    signed_percent,
)
from bench.gate.instructions.judge import InstructionReport

VERDICT_MARKS = {
    Verdict.WORSE: "❌ worse",
    Verdict.BETTER: "✅ better",
    Verdict.UNCHANGED: "unchanged",
    Verdict.INCONCLUSIVE: "⚠️ inconclusive",
}


def _cell(text: str) -> str:
    """Return text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, text_columns: int = 1
) -> list[str]:
    """Return a Markdown table's lines: the first text_columns left-aligned, the figures right-aligned."""
    align = ["---" if index < text_columns else "---:" for index in range(len(header))]
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines


def instructions_markdown(report: InstructionReport, *, title: str, notes: Sequence[str] = ()) -> str:
    """Return an instructions check as Markdown: outcome, verdict table, grown functions."""
    lines = [f"## {title}", "", f"**{instruction_summary(report)}**", ""]
    lines += [f"> {note}" for note in notes] + ([""] if notes else [])
    lines += markdown_table(
        (
            "cell",
            "A (instructions/request)",
            "B",
            "change",
            f"interval ({report.confidence:.1%})",
            "spread",
            "verdict",
        ),
        [
            (
                v.cell.label,
                millions(v.comparison.a_per_request),
                millions(v.comparison.b_per_request),
                signed_percent(v.comparison.change),
                interval_text(v),
                f"{v.comparison.spread:.2%}",
                VERDICT_MARKS[v.comparison.verdict],
            )
            for v in report.verdicts
        ],
    )
    for verdict in report.regressions:
        if not verdict.grown:
            continue
        lines += ["", f"### {verdict.cell.label}: what grew (own instructions per request, A → B)", ""]
        lines += markdown_table(
            ("function", "package", "A", "B", "growth"),
            [
                (
                    f"`{g.key.function}`",
                    g.key.package,
                    f"{g.a_self:,.0f}",
                    f"{g.b_self:,.0f}",
                    f"+{g.growth:,.0f}",
                )
                for g in verdict.grown
            ],
        )
    return "\n".join(lines) + "\n"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


def wallclock_markdown(report: GateReport, *, title: str, summary: str, notes: Sequence[str] = ()) -> str:
    """Return a wall-clock (or baseline) check as Markdown: outcome, verdict table of the gated metrics."""
    lines = [f"## {title}", "", f"**{summary}**", ""]
    lines += [f"> {note}" for note in notes] + ([""] if notes else [])
    rows = []
    for comparison in report.comparisons:
        interval = (
            "—"
            if comparison.ci_low is None or comparison.ci_high is None
            else f"[{_percent(comparison.ci_low)}, {_percent(comparison.ci_high)}]"
        )
        rows.append(
            (
                comparison.cell.label,
                comparison.metric + ("" if comparison.gating else " (info)"),
                _percent(comparison.change),
                interval,
                VERDICT_MARKS[comparison.verdict],
                comparison.reason,
            )
        )
    lines += markdown_table(
        ("cell", "metric", "change", f"interval ({report.confidence:.1%})", "verdict", "why"), rows
    )
    return "\n".join(lines) + "\n"

"""The terminal view of an instructions check: the verdict table, the grown functions, the summary line."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from bench.gate.decisions import Verdict
from bench.gate.instructions.judge import InstructionReport, InstructionVerdict
from bench.gate.verdicts import VERDICT_STYLES


def millions(value: float) -> str:
    return f"{value / 1e6:,.3f} M"


def signed_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:+.2%}"


def interval_text(verdict: InstructionVerdict) -> str:
    comparison = verdict.comparison
    if comparison.ci_low is None or comparison.ci_high is None:
        return "—"
    return f"[{signed_percent(comparison.ci_low)}, {signed_percent(comparison.ci_high)}]"


def instruction_table(report: InstructionReport) -> Table:
    """Return the table of every cell: instructions per request on each side, change, interval, verdict."""
    table = Table(title="instructions per request, B vs A")
    for name, justify in (
        ("cell", "left"),
        ("A", "right"),
        ("B", "right"),
        ("change", "right"),
        (f"CI ({report.confidence:.1%})", "right"),
        ("spread", "right"),
        ("windows", "right"),
        ("verdict", "left"),
        ("why", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for verdict in report.verdicts:
        comparison = verdict.comparison
        table.add_row(
            verdict.cell.label,
            millions(comparison.a_per_request),
            millions(comparison.b_per_request),
            signed_percent(comparison.change),
            interval_text(verdict),
            f"{comparison.spread:.2%}",
            f"{comparison.windows[0]}+{comparison.windows[1]}",
            f"[{VERDICT_STYLES[comparison.verdict]}]{comparison.verdict.value}[/]",
            comparison.reason,
        )
    return table


def grown_table(verdict: InstructionVerdict) -> Table:
    """Return the functions whose own instructions per request grew most in a cell judged worse."""
    table = Table(title=f"{verdict.cell.label}: functions that grew (own instructions per request)")
    for name in ("function", "package", "A", "B", "growth"):
        table.add_column(name, justify="left" if name in ("function", "package") else "right")
    for grown in verdict.grown:
        table.add_row(
            grown.key.function,
            grown.key.package,
            f"{grown.a_self:,.0f}",
            f"{grown.b_self:,.0f}",
            f"+{grown.growth:,.0f}",
        )
    return table


def instruction_summary(report: InstructionReport) -> str:
    """Return the one-line outcome: FAIL or PASS, and the verdict counts (plain text)."""
    counts = Counter(v.comparison.verdict for v in report.verdicts)
    listed = ", ".join(f"{counts[verdict]} {verdict.value}" for verdict in Verdict if counts[verdict])
    effect = f"min effect {report.settings.min_effect:.1%}"
    if report.failed:
        return (
            f"FAIL: {len(report.regressions)} regression(s) in instructions per request ({listed}; {effect})"
        )
    if not report.judged:
        return f"NOTHING JUDGED: no cell was conclusive ({listed or 'none'})"
    return f"PASS ({listed}; {effect})"


def print_instruction_report(report: InstructionReport, console: Console, *, header: str = "") -> None:
    if header:
        console.print(header)
    console.print(instruction_table(report))
    for verdict in report.regressions:
        if verdict.grown:
            console.print(grown_table(verdict))
    for cell in report.missing:
        console.print(f"[dim]not counted on both sides: {cell.label}[/]")
    style = "bold red" if report.failed else "bold green" if report.judged else "bold yellow"
    console.print(f"[{style}]{instruction_summary(report)}[/]")

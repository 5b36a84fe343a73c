"""The verdicts of `bench check`: a saved run judged against a stored baseline, or its A and B halves.

The I/O around bench/gate/decisions.py: find and read the files, print the verdicts as a table, write them as
JSON. Which comparison is made follows from the run itself: a run whose rows carry both variants A and B
(`bench check --ab REF` makes one) is judged pair by pair; any other run is judged against a baseline.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from bench.errors import BaselineError, CheckInputError
from bench.gate.baseline import Baseline, default_baseline_path, load_baseline
from bench.gate.decisions import GateReport, MetricComparison, Verdict, compare_pairs, compare_samples
from bench.gate.samples import collect_pairs, collect_samples, is_ab_run
from bench.gate.settings import METRICS, GateSettings
from bench.noise import coefficient_of_variation
from bench.results import read_run

VERDICT_STYLES = {
    Verdict.WORSE: "bold red",
    Verdict.BETTER: "green",
    Verdict.UNCHANGED: "dim",
    Verdict.INCONCLUSIVE: "yellow",
}


@dataclass(frozen=True)
class CheckOutcome:
    """A judged check and where its inputs came from."""

    report: GateReport
    run_dir: Path
    baseline_path: Path | None = None
    forced_differences: tuple[str, ...] = ()
    ab: dict[str, Any] | None = None  # an A/B run's metadata: the reference, pairs, injected CPU

    def to_dict(self) -> dict[str, Any]:
        data = self.report.to_dict()
        data["run_dir"] = str(self.run_dir)
        data["ab"] = self.ab
        data["baseline_file"] = str(self.baseline_path) if self.baseline_path else None
        data["forced_environment_differences"] = list(self.forced_differences)
        return data


def check_run(
    run_dir: Path, *, settings: GateSettings, baseline_path: Path | None = None, force: bool = False
) -> CheckOutcome:
    """Return the verdicts on a saved run: pair by pair for an A/B run, else against the baseline."""
    rows, metadata = read_run(run_dir)
    if is_ab_run(rows):
        report = compare_pairs(collect_pairs(rows, metrics=METRICS), settings=settings)
        outcome = CheckOutcome(report=report, run_dir=run_dir, ab=(metadata or {}).get("ab"))
    else:
        path = baseline_path or default_baseline_path(metadata)
        try:
            baseline = load_baseline(path)
            differences = baseline.check_environment(metadata, force=force)
        except BaselineError as exc:
            raise CheckInputError(str(exc)) from None
        report = compare_samples(
            baseline.cells,
            collect_samples(rows, metrics=METRICS),
            settings=settings,
            labels=("baseline", "current"),
        )
        outcome = CheckOutcome(
            report=report, run_dir=run_dir, baseline_path=path, forced_differences=tuple(differences)
        )
    if not report.comparisons and not report.flagged:
        raise CheckInputError(
            f"no cell of {run_dir} is in the baseline"
            if report.mode == "baseline"
            else f"no cell of {run_dir} was measured as both A and B"
        )
    return outcome


def write_json(outcome: CheckOutcome, path: Path, *, notes: Sequence[str] = ()) -> None:
    """Write the outcome as JSON (the same content as the table, for machines), with the check's notes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**outcome.to_dict(), "notes": list(notes)}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"


def _percent(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:+.1%}"


def _interval(comparison: MetricComparison) -> str:
    if comparison.ci_low is None or comparison.ci_high is None:
        return "—"
    return f"[{_percent(comparison.ci_low)}, {_percent(comparison.ci_high)}]"


def comparison_table(report: GateReport) -> Table:
    """Return the table of every cell and metric: medians, change, interval, verdict and why."""
    table = Table(title=f"{report.current_label} vs {report.baseline_label}", show_lines=False)
    for name, justify in (
        ("cell", "left"),
        ("metric", "left"),
        (report.baseline_label, "right"),
        (report.current_label, "right"),
        ("change", "right"),
        (f"CI ({report.confidence:.1%})", "right"),
        ("n", "right"),
        ("verdict", "left"),
        ("why", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for comparison in report.comparisons:
        style = VERDICT_STYLES[comparison.verdict]
        metric = comparison.metric + ("" if comparison.gating else " (info)")
        samples = comparison.samples
        table.add_row(
            comparison.cell.label,
            metric,
            _number(comparison.baseline_median),
            _number(comparison.current_median),
            _percent(comparison.change),
            _interval(comparison),
            str(samples[0]) if report.mode == "ab" else f"{samples[0]}/{samples[1]}",
            f"[{style}]{comparison.verdict.value}[/]",
            comparison.reason,
            style=None if comparison.gating else "dim",
        )
    return table


def flagged_table(report: GateReport) -> Table:
    """Return the table of cells with flagged trials: left out of the samples, listed here instead."""
    table = Table(title="flagged trials (not in the comparison)")
    for name in ("cell", "side", "trials", "generator-bound", "errors", "first error"):
        table.add_column(name)
    for flagged in report.flagged:
        errors = f"[red]{len(flagged.errors)} (new)[/]" if flagged.new_errors else str(len(flagged.errors))
        table.add_row(
            flagged.cell.label,
            flagged.side,
            str(flagged.trials),
            str(flagged.generator_bound),
            errors,
            (flagged.errors[0].splitlines() or [""])[0][:100] if flagged.errors else "",
        )
    return table


def summary_line(report: GateReport) -> str:
    """Return the one-line outcome: FAIL or PASS, and what makes it so."""
    gated = Counter(c.verdict for c in report.comparisons if c.gating)
    counts = ", ".join(f"{gated[verdict]} {verdict.value}" for verdict in Verdict if gated[verdict])
    effect = f"min effect {report.settings.min_effect:.0%}"
    if report.failed:
        causes = [f"{len(report.regressions)} regression(s)"] if report.regressions else []
        if report.new_errors and report.settings.fail_on_new_errors:
            causes.append(f"{len(report.new_errors)} cell(s) with new errors")
        if report.inconclusive and report.settings.fail_on_inconclusive:
            causes.append(f"{len(report.inconclusive)} inconclusive (strict)")
        return f"[bold red]FAIL[/]: {'; '.join(causes)}  ({counts}; {effect})"
    if not report.judged:
        return f"[bold yellow]NOTHING JUDGED[/]: no gated comparison was conclusive ({counts or 'none'})"
    warning = (
        f"  [yellow]{len(report.inconclusive)} inconclusive: NOT vouched for[/]"
        if report.inconclusive
        else ""
    )
    return f"[bold green]PASS[/] ({counts}; {effect}){warning}"


def print_outcome(outcome: CheckOutcome, console: Console) -> None:
    """Print the verdict table, the flagged and missing cells, and the summary line."""
    report = outcome.report
    source = f"baseline {outcome.baseline_path}" if outcome.baseline_path else "A/B pairs"
    console.print(f"run {outcome.run_dir} against {source}")
    if outcome.ab:
        variants = outcome.ab.get("variants", {})
        injected = ""
        if outcome.ab.get("inject_cpu_us"):
            apps = ", ".join(outcome.ab.get("inject_apps") or ["every app"])
            injected = f"; B burns {outcome.ab['inject_cpu_us']} µs of extra CPU per request in {apps}"
        console.print(f"A = {variants.get('A', '?')}, B = {variants.get('B', '?')}{injected}")
    for difference in outcome.forced_differences:
        console.print(f"[bold red]WARNING, forced past an environment difference:[/] {difference}")
    if report.comparisons:
        console.print(comparison_table(report))
    if report.flagged:
        console.print(flagged_table(report))
    for cell, side in report.missing:
        console.print(f"[dim]only in {side}: {cell.label}[/]")
    console.print(summary_line(report))


def print_baseline(baseline: Baseline, console: Console) -> None:
    """Print a baseline: where it comes from, its environment, and each cell's samples."""
    runs = ", ".join(f"{run.get('run_id')} ({str(run.get('commit') or '?')[:10]})" for run in baseline.runs)
    console.print(f"[bold]{baseline.path}[/]  created {baseline.created_at}  from {runs}")
    for key, value in sorted(baseline.environment.items()):
        console.print(f"  [dim]{key}[/] {value}")
    table = Table(title="cells")
    for name in ("cell", "trials", "flagged", *(f"{metric} (median, CV)" for metric in METRICS)):
        table.add_column(name)
    for cell, samples in baseline.cells.items():
        figures = []
        for metric in METRICS:
            values = samples.values.get(metric, ())
            cv = coefficient_of_variation(values)
            median = float(np.median(values)) if values else None
            figures.append(f"{_number(median)}  ({'—' if math.isnan(cv) else f'{cv:.1%}'}, n={len(values)})")
        flagged = samples.generator_bound + len(samples.errors)
        table.add_row(cell.label, str(samples.trials), str(flagged or ""), *figures)
    console.print(table)

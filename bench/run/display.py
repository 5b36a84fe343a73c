"""The terminal side of a run: a progress bar with ETA while it runs, a one-screen summary table at the end.

The summary is rendered from the saved results.jsonl, like every report: what is shown is what was written.
"""

from __future__ import annotations

import contextlib
import statistics
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from bench.results import RESULTS_FILE, ResultRow, read_rows
from bench.terminal import make_console


class ProgressReporter:
    """Updates the bar as cells start and end, with a running count of flagged cells."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress, self._task = progress, task
        self.errors = self.generator_bound = 0

    def cell_started(self, label: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=label)

    def cell_done(self, row: ResultRow) -> None:
        self.errors += bool(row.error)
        self.generator_bound += row.generator_bound
        if self._progress is not None and self._task is not None:
            flags = f"errors {self.errors}  generator-bound {self.generator_bound}"
            self._progress.update(self._task, advance=1, flags=flags)


class RunDisplay:
    def __init__(self, console: Console | None = None, *, quiet: bool = False) -> None:
        self.console = console or make_console(stderr=True)
        self.quiet = quiet

    @contextlib.contextmanager
    def progress(self, *, total: int) -> Iterator[ProgressReporter]:
        if self.quiet:
            yield ProgressReporter(None, None)
            return
        progress = Progress(
            TextColumn("[bold]{task.description:<44}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[flags]}"),
            console=self.console,
            speed_estimate_period=900,
        )
        with progress:
            task = progress.add_task("starting", total=total, flags="")
            yield ProgressReporter(progress, task)

    def summary(self, run_dir: Path) -> None:
        if self.quiet:
            return
        rows = list(read_rows(run_dir / RESULTS_FILE)) if (run_dir / RESULTS_FILE).exists() else []
        self.console.print(summary_table(rows))
        self.console.print(f"results: {run_dir / RESULTS_FILE}")


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summary_cell(trials: list[dict[str, Any]]) -> str:
    """Return 'rps · p99 · CPU ms/request' (medians of the valid trials) with flags, for one table cell."""
    valid = [row for row in trials if not row.get("error") and not row.get("generator_bound")]
    errors = sum(1 for row in trials if row.get("error"))
    bound = sum(1 for row in trials if row.get("generator_bound") and not row.get("error"))
    usable = valid or [row for row in trials if not row.get("error")]
    if not usable:
        return f"[red]error ×{errors}[/]"
    rps = _median([float(row["rps"]) for row in usable])
    p99 = _median([float(row["latency_p99_ms"]) for row in usable if row.get("latency_p99_ms") is not None])
    cpu = _median(
        [float(row["cpu_ms_per_request"]) for row in usable if row.get("cpu_ms_per_request") is not None]
    )
    text = f"{rps:,.0f}" if rps is not None else "-"
    text += f" · {p99:.1f}" if p99 is not None else " · -"
    text += f" · {cpu:.2f}" if cpu is not None else ""
    if bound:
        text += f" [yellow]G{bound}[/]"
    if errors:
        text += f" [red]E{errors}[/]"
    return text


def summary_table(rows: list[dict[str, Any]]) -> Table:
    """Return one row per scenario and user count, one column per app/server."""
    table = Table(
        title="req/s · p99 ms · server CPU ms per request   (median of trials; G generator-bound, E error)"
    )
    columns = sorted({f"{row['app']}/{row['server']}" for row in rows})
    table.add_column("scenario")
    table.add_column("users", justify="right")
    for column in columns:
        table.add_column(column, justify="right")
    grouped: dict[tuple[str, int], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        grouped[(row["scenario"], int(row["users"]))][f"{row['app']}/{row['server']}"].append(row)
    for (scenario, users), by_column in sorted(grouped.items()):
        table.add_row(
            scenario,
            str(users),
            *(summary_cell(by_column[column]) if column in by_column else "" for column in columns),
        )
    return table

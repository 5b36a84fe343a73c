"""The versions section of a versions run: per scenario and framework, CPU per request and req/s of every
environment (release and Python) with their intervals, and the steps between adjacent ones as sentences.

Reads the run's saved files only: results.jsonl, metadata.json (its "versions": every environment, measured
or not, with its exact packages) and versions-steps.json (the steps as `bench report` had the gate judge
them, bench/gate/steps.py). Writes versions.md, versions.csv and versions.html beside them.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.columns import CPU_MS_PER_REQUEST, RPS, SCENARIO, SERVER, VARIANT
from bench.report import aggregate as a
from bench.results import read_run

STEPS_FILE = "versions-steps.json"
MARKDOWN_FILE = "versions.md"
CSV_FILE = "versions.csv"
HTML_FILE = "versions.html"
# The columns of versions.csv, in order.
COLUMNS = (
    "scenario",
    "app",
    "environment",
    "release",
    "python",
    "framework_version",
    "status",
    "valid_trials",
    "cpu_ms_per_request",
    "cpu_ms_per_request_ci_low",
    "cpu_ms_per_request_ci_high",
    "rps",
    "rps_ci_low",
    "rps_ci_high",
)


@dataclass(frozen=True)
class VersionsFiles:
    markdown: Path
    csv: Path
    html: Path


def environment_cells(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Return one row per (environment, scenario): the report's cell aggregation with the environment (the
    rows' variant) in the place of the server, so that every environment is a cell of its own."""
    frame = a.frame_from_rows(rows)
    if frame.empty:
        return frame
    frame[SERVER] = frame[VARIANT]
    return a.aggregate_cells(frame)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in str(version).split("."))


def versions_table(
    cells: pd.DataFrame, *, environments: Sequence[Mapping[str, Any]], scenarios: Sequence[str]
) -> pd.DataFrame:
    """Return the figures of every environment on every scenario (COLUMNS), in release then Python order;
    an environment that measured nothing keeps its row, with its status (why) and no figures."""
    by_cell = {(str(r[SERVER]), str(r[SCENARIO])): r for _, r in cells.iterrows()} if not cells.empty else {}
    records = []
    for scenario in scenarios:
        for environment in sorted(
            environments,
            key=lambda e: (str(e["app"]), _version_key(e["release"]), _version_key(e["python"])),
        ):
            cell = by_cell.get((str(environment["label"]), scenario))
            status = str(environment.get("status", ""))
            contract = str(environment.get("contract", ""))
            if status == "ok" and contract.startswith("failed"):
                status = f"incompatible: failed contract check: {contract.removeprefix('failed: ')}"
            record: dict[str, Any] = {
                "scenario": scenario,
                "app": environment["app"],
                "environment": environment["label"],
                "release": environment["release"],
                "python": environment["python"],
                "framework_version": environment.get("framework_version", ""),
                "status": status if cell is None or status != "ok" else str(cell[a.STATUS]),
                "valid_trials": 0 if cell is None else int(cell[a.VALID_TRIALS]),
            }
            for metric in (CPU_MS_PER_REQUEST, RPS):
                record[metric] = math.nan if cell is None else cell[a.median_of(metric)]
                record[f"{metric}_ci_low"] = math.nan if cell is None else cell[a.ci_low_of(metric)]
                record[f"{metric}_ci_high"] = math.nan if cell is None else cell[a.ci_high_of(metric)]
            records.append(record)
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


def _figure(value: float, low: float, high: float, *, digits: int) -> str:
    if value is None or math.isnan(value):
        return "-"
    interval = "" if math.isnan(low) or math.isnan(high) else f" [{low:.{digits}f}, {high:.{digits}f}]"
    return f"{value:.{digits}f}{interval}"


def versions_markdown(
    table: pd.DataFrame, *, steps: Sequence[Mapping[str, Any]], versions: Mapping[str, Any]
) -> str:
    """Return versions.md: the steps as sentences, then per scenario and framework the figures."""
    lines = ["# Versions", ""]
    missing = versions.get("missing_pythons") or []
    lines.append(
        f"Pythons: {', '.join(versions.get('pythons', [])) or 'none'}; every release on Python "
        f"{versions.get('release_python', '?')}"
        + (f"; not found: {', '.join(missing)}" if missing else "")
        + ". Figures: median of the valid trials [95% bootstrap interval]."
    )
    lines += ["", "## Steps (the gate's rule: significant and beyond its minimum effect)"]
    if not steps:
        lines += ["", "No step: no framework has two measured environments."]
    for (step_app, step_scenario), group in _steps_by_app_and_scenario(steps).items():
        lines += ["", f"### {step_scenario}: {step_app}", ""]
        lines += [f"- {step['sentence']}" for step in group if step["metric"] == CPU_MS_PER_REQUEST]
        lines += [f"- {step['sentence']}" for step in group if step["metric"] == RPS]
    for scenario, by_scenario in table.groupby("scenario", sort=False):
        for app, rows in by_scenario.groupby("app", sort=False):
            lines += ["", f"## {scenario}: {app}", ""]
            lines.append("| environment | version | CPU ms / request | req/s | trials | status |")
            lines.append("|---|---|---:|---:|---:|---|")
            for _, row in rows.iterrows():
                cpu = _figure(
                    row[CPU_MS_PER_REQUEST],
                    row[f"{CPU_MS_PER_REQUEST}_ci_low"],
                    row[f"{CPU_MS_PER_REQUEST}_ci_high"],
                    digits=3,
                )
                rps = _figure(row[RPS], row[f"{RPS}_ci_low"], row[f"{RPS}_ci_high"], digits=0)
                lines.append(
                    f"| {row['environment']} | {row['framework_version'] or '-'} | {cpu} | {rps} | "
                    f"{row['valid_trials']} | {row['status']} |"
                )
    lines += ["", "## Environments", ""]
    for environment in versions.get("environments", []):
        packages = ", ".join(f"{name} {version}" for name, version in environment.get("packages", {}).items())
        lines.append(
            f"- {environment['label']}: {environment.get('status', '')}; contract "
            f"{environment.get('contract', '')}" + (f"; {packages}" if packages else "")
        )
    return "\n".join(lines) + "\n"


def _steps_by_app_and_scenario(
    steps: Sequence[Mapping[str, Any]],
) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    """Return the steps grouped by framework and scenario, each group in the steps' order."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for step in steps:
        groups.setdefault((str(step["app"]), str(step["scenario"])), []).append(step)
    return groups


def versions_html(markdown: str) -> str:
    """Return versions.html: the Markdown as a page (monospace, so that its tables line up)."""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Versions</title></head><body>"
        f"<pre style='white-space: pre-wrap'>{html.escape(markdown)}</pre></body></html>\n"
    )


def write_versions_report(run_dir: Path) -> VersionsFiles:
    """Write versions.md, versions.csv and versions.html of a saved versions run; return their paths."""
    rows, metadata = read_run(run_dir)
    versions = (metadata or {}).get("versions", {})
    steps_path = run_dir / STEPS_FILE
    steps = json.loads(steps_path.read_text()) if steps_path.is_file() else []
    scenarios = list((metadata or {}).get("settings", {}).get("profile", {}).get("scenarios", []))
    table = versions_table(
        environment_cells(rows), environments=versions.get("environments", []), scenarios=scenarios
    )
    markdown = versions_markdown(table, steps=steps, versions=versions)
    files = VersionsFiles(run_dir / MARKDOWN_FILE, run_dir / CSV_FILE, run_dir / HTML_FILE)
    files.markdown.write_text(markdown)
    table.to_csv(files.csv, index=False)
    files.html.write_text(versions_html(markdown))
    return files

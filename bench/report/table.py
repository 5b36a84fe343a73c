"""The comparison table, built from evidence: app.toml, installed package metadata, contract results, a run,
and the frameworks' release facts fetched from PyPI into community.json.

Each cell says how an app provides a feature (built in, or which packages at which versions), whether the
contract tests of that feature passed, the measured figure of the scenarios that exercise it, and how many
lines of code the app needed for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bench.columns import APP, DB, LATENCY_P99, RPS, SCENARIO, SERVER
from bench.config import AppSpec
from bench.report.aggregate import (
    BOUND_RPS,
    CPU_PER_REQUEST,
    CPU_RATIO_TO_CHEAPEST,
    ERRORS,
    RANK,
    SCORE,
    SCORED_SCENARIOS,
    STATUS,
    STATUS_ERROR,
    STATUS_GENERATOR_BOUND,
    STATUS_PARTIAL,
    TRIAL_REQUESTS,
    TRIALS,
    VALID_TRIALS,
    median_of,
)
from bench.report.app_facts import RequiresLookup, dependency_closure, feature_lines, installed_requirements
from bench.report.community import COMMUNITY_FILE, CommunityEvidence, PackageFacts, refresh_command
from bench.report.contract import ContractEvidence
from bench.report.latency.cells import CellKey, CellSweep
from bench.report.latency.trials import (
    ABOVE,
    BELOW,
)
from bench.report.percentiles import percentile_label
from bench.report.rows import (
    COMMUNITY_ROW,
    DEPENDENCIES_ROW,
    OTHER_ROW,
    PERFORMANCE_ROW,
    TABLE_ROWS,
    USE_CASE_ROW,
    RowSpec,
    ordered_scenarios,
)
from bench.report.ties import Standing
from bench.scenarios import discover_scenarios

# ---- the table ---------------------------------------------------------------------------------------------

CONTRACT_PASSED, CONTRACT_FAILED, CONTRACT_NOT_RUN, NOT_APPLICABLE = "passed", "failed", "not run", "n/a"


@dataclass(frozen=True)
class TableCell:
    provided: str
    contract: str = NOT_APPLICABLE
    contract_state: str = NOT_APPLICABLE
    figures: tuple[str, ...] = ()
    lines_of_code: int | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComparisonTable:
    apps: tuple[str, ...]
    rows: tuple[tuple[RowSpec, dict[str, TableCell]], ...]
    contract_source: str = ""


def format_rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def format_ms(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def describe_cell(cell: Mapping[str, Any], *, label: str = "") -> str:
    """Return a headline cell's figure in words: req/s and p99, or why there is none, and where it comes
    from (what it measures beyond the framework, the variant, and the database when there is one:
    "api (Django + DRF; gunicorn, postgres): 1,234 req/s")."""
    source = ", ".join(str(part) for part in (cell.get(SERVER), cell.get(DB)) if part)
    source = "; ".join(part for part in (label, source) if part)
    scenario = f"{cell[SCENARIO]} ({source})" if source else cell[SCENARIO]
    if cell[STATUS] == STATUS_ERROR:
        return f"{scenario}: failed ({str(cell[ERRORS])[:80] or 'error'})"
    if cell[STATUS] == STATUS_GENERATOR_BOUND:
        # The measured figure first: what the server spent per request (and against the cheapest app); the
        # throughput only as the lower bound it is.
        cpu = cell.get(CPU_PER_REQUEST, math.nan)
        ratio = cell.get(CPU_RATIO_TO_CHEAPEST, math.nan)
        measured = "" if cpu is None or math.isnan(cpu) else f"{format_ms(cpu)} CPU-ms per request"
        if measured and ratio is not None and not math.isnan(ratio):
            measured += " (the cheapest)" if ratio <= 1.0 else f" ({ratio:.1f}x the cheapest)"
        bound = f"≥ {format_rate(cell[BOUND_RPS])} req/s (the load generator was the limit)"
        return f"{scenario}: {measured}, {bound}" if measured else f"{scenario}: {bound}"
    p99 = cell[median_of(LATENCY_P99)]
    samples = int(cell.get(TRIAL_REQUESTS, 0) or 0)
    latency = (
        "" if math.isnan(p99) else f", p99 {format_ms(p99)} ms ({percentile_label(samples, quantile=0.99)})"
    )
    partial = (
        f" ({cell[VALID_TRIALS]} of {cell[TRIALS]} trials valid)" if cell[STATUS] == STATUS_PARTIAL else ""
    )
    return f"{scenario}: {format_rate(cell[median_of(RPS)])} req/s{latency}{partial}"


def short_capacity(cell: CellSweep) -> str:
    """Return the cell's capacity in a few characters: "820", "< 130", "≥ 1,260"."""
    total = len(cell.trials)
    if cell.bounded(BELOW) == total:
        return f"{BELOW} {format_rate(cell.capacity.high)}"
    if cell.bounded(ABOVE) == total:
        return f"{ABOVE} {format_rate(cell.capacity.low)}"
    return (
        f"{ABOVE} {format_rate(cell.capacity.median)}" if cell.behind else format_rate(cell.capacity.median)
    )


def capacity_figure(cells: Sequence[CellSweep]) -> str:
    """Return the comparison table's line for one app's headline cells with a sweep, e.g. "capacity at p99 ≤
    12 ms: db 820 req/s, fortunes 790 req/s" ("" without any)."""
    shown = [cell for cell in cells if math.isfinite(cell.target.ms)]
    if not shown:
        return ""
    order = ordered_scenarios(cell.key[2] for cell in shown)
    shown.sort(key=lambda cell: order.index(cell.key[2]))
    if len({cell.target.ms for cell in shown}) == 1:
        listed = ", ".join(f"{cell.key[2]} {short_capacity(cell)} req/s" for cell in shown)
        return f"capacity at p99 ≤ {format_ms(shown[0].target.ms)} ms: {listed}"
    listed = ", ".join(
        f"{cell.key[2]} {short_capacity(cell)} req/s (p99 ≤ {format_ms(cell.target.ms)} ms)" for cell in shown
    )
    return f"capacity at the p99 target: {listed}"


def capacity_figures(
    headline: Mapping[str, Sequence[CellKey]], cells: Mapping[CellKey, CellSweep]
) -> dict[str, str]:
    """Return app -> its capacity line, for the apps whose headline cells have a sweep."""
    lines = {
        app: capacity_figure([cells[key] for key in keys if key in cells]) for app, keys in headline.items()
    }
    return {app: line for app, line in lines.items() if line}


# The error path's cost: each app's CPU per request on errors (api's workload with a share of requests the app
# refuses) against its api figure, in the row both measure.
ERRORS_SCENARIO = "errors"
API_SCENARIO = "api"
DEFAULT_REFUSED_SHARE = 0.5  # errors' FAILURE_SHARES, summed, for a run older than bench/scenarios/ knows


def refused_share() -> float:
    """Return the share of errors' requests the app must refuse (the sum of its FAILURE_SHARES)."""
    try:
        info = discover_scenarios().get(ERRORS_SCENARIO)
    except (OSError, SyntaxError, ValueError):
        return DEFAULT_REFUSED_SHARE
    return sum(share for _, share in info.failure_shares) if info else DEFAULT_REFUSED_SHARE


def _cpu_of(cell: Mapping[str, Any]) -> float:
    value = cell.get(CPU_PER_REQUEST)
    return math.nan if value is None else float(value)


def error_path_figure(*, api: Mapping[str, Any], errors: Mapping[str, Any], refused: float) -> str:
    """Return what the error path costs an app: its CPU per request on errors against api's, and what a
    refused request costs if errors' other requests cost what api's do ("" without both figures on one server
    and database). refused: the share of errors' requests the app refuses."""
    api_cpu, errors_cpu = _cpu_of(api), _cpu_of(errors)
    if math.isnan(api_cpu) or math.isnan(errors_cpu) or api_cpu <= 0 or not 0 < refused <= 1:
        return ""
    if (api.get(SERVER), api.get(DB)) != (errors.get(SERVER), errors.get(DB)):
        return ""
    per_refused = (errors_cpu - (1 - refused) * api_cpu) / refused
    return (
        f"error path: {format_ms(errors_cpu)} CPU-ms per request with {refused:.0%} refused, "
        f"{errors_cpu / api_cpu:.2f}x api's {format_ms(api_cpu)}; a refused request ≈ "
        f"{format_ms(per_refused)} CPU-ms ({per_refused / api_cpu:.2f}x)"
    )


def _error_path(spec: AppSpec, headline: pd.DataFrame) -> str:
    """Return the app's error-path figure from its headline api and errors cells ("" without both)."""
    of_app = headline[headline[APP] == spec.name]
    cells = {
        scenario: {str(k): v for k, v in of_app[of_app[SCENARIO] == scenario].iloc[0].items()}
        for scenario in (API_SCENARIO, ERRORS_SCENARIO)
        if (of_app[SCENARIO] == scenario).any()
    }
    if len(cells) < 2:
        return ""
    return error_path_figure(api=cells[API_SCENARIO], errors=cells[ERRORS_SCENARIO], refused=refused_share())


def _figures(
    spec: AppSpec, row: str, *, headline: pd.DataFrame, rows_of: Mapping[str, str]
) -> tuple[str, ...]:
    scenarios = ordered_scenarios(str(name) for name in headline[SCENARIO]) if not headline.empty else []
    figures = []
    for scenario in scenarios:
        if rows_of.get(scenario, OTHER_ROW) != row:
            continue
        match = headline[(headline[APP] == spec.name) & (headline[SCENARIO] == scenario)]
        if match.empty:
            figures.append(f"{scenario}: missing from this run")
            continue
        cell = {str(k): v for k, v in match.iloc[0].items()}
        figures.append(describe_cell(cell, label=spec.labels.get(scenario, "")))
        variant = spec.servers.get(str(cell.get(SERVER, "")))
        if variant is not None and variant.note:
            figures.append(f"{variant.name}: {variant.note}")
        if scenario == ERRORS_SCENARIO:
            figures.append(_error_path(spec, headline))
    return tuple(dict.fromkeys(figure for figure in figures if figure))


def _contract(evidence: ContractEvidence | None, app: str, rows: tuple[str, ...] | None) -> tuple[str, str]:
    if evidence is None:
        return "contract: not run (no contract.json)", CONTRACT_NOT_RUN
    outcome = evidence.outcome(app, rows)
    if not outcome.ran:
        return "contract: no test ran for this", CONTRACT_NOT_RUN
    where = ", ".join(outcome.databases)
    if outcome.failed:
        return f"contract: {outcome.failed} of {outcome.ran} tests failed ({where})", CONTRACT_FAILED
    return f"contract: {outcome.passed} tests passed ({where})", CONTRACT_PASSED


def _provided(spec: AppSpec, row: str, version_of: Callable[[str], str | None]) -> str:
    packages = spec.packages.get(row, ())
    if not packages:
        return f"built into {spec.framework} {version_of(spec.framework) or '(not installed)'}"
    return ", ".join(f"{name} {version_of(name) or '(not installed)'}" for name in packages)


def _rank_text(app: str, ranking: pd.DataFrame, overall: Standing | None) -> str:
    match = ranking[ranking[APP] == app]
    if match.empty or math.isnan(float(match.iloc[0][SCORE])):
        return "not ranked: no workload has a valid figure for every app"
    record = match.iloc[0]
    text = (
        f"rank {int(record[RANK])} of {len(ranking)} on server CPU per request: {float(record[SCORE]):.0%} "
        f"of the cheapest (geometric mean over {record[SCORED_SCENARIOS]})"
    )
    if overall is None or not overall.judged(app):
        return f"{text}; too few trials to tell whether the differences are real"
    tied = overall.tied_with(app)
    if tied:
        return f"{text}; tied with {', '.join(tied)} at this run's noise"
    return f"{text}; apart from every other app at this run's noise"


def build_comparison_table(
    *,
    apps: Sequence[AppSpec],
    headline: pd.DataFrame,
    ranking: pd.DataFrame,
    rows_of: Mapping[str, str],
    version_of: Callable[[str], str | None],
    contract: ContractEvidence | None,
    requires: RequiresLookup = installed_requirements,
    community: CommunityEvidence | None = None,
    run_id: str = "",
    overall: Standing | None = None,
    capacity: Mapping[str, str] | None = None,
    costliest_layers: Mapping[str, str] | None = None,
) -> ComparisonTable:
    """Return the table: one column per app, the rows of TABLE_ROWS, every cell from evidence (run_id names
    the run in the command a "not fetched" Community cell suggests; overall says which apps the run's noise
    cannot tell apart on the score; capacity, app -> its capacity at the latency target of an open-loop
    sweep, is quoted in the performance row, and so is costliest_layers, app -> its two costliest layers on
    the api scenario from its CPU profile)."""
    table_rows: list[tuple[RowSpec, dict[str, TableCell]]] = []
    for row in TABLE_ROWS:
        cells: dict[str, TableCell] = {}
        for spec in apps:
            figures = _figures(spec, row.key, headline=headline, rows_of=rows_of)
            if row.key == DEPENDENCIES_ROW:
                cells[spec.name] = _dependencies_cell(spec, requires=requires)
            elif row.key == COMMUNITY_ROW:
                cells[spec.name] = _community_cell(spec, community=community, run_id=run_id)
            elif row.key == USE_CASE_ROW:
                cells[spec.name] = _use_case_cell(
                    spec, figures=figures, version_of=version_of, contract=contract
                )
            else:
                if row.key == PERFORMANCE_ROW:
                    at_target = (capacity or {}).get(spec.name)
                    layers = (costliest_layers or {}).get(spec.name)
                    figures = (
                        _rank_text(spec.name, ranking, overall),
                        *figures,
                        *([at_target] if at_target else []),
                        *([layers] if layers else []),
                    )
                cells[spec.name] = _feature_cell(
                    spec, row.key, figures=figures, version_of=version_of, contract=contract
                )
        table_rows.append((row, cells))
    source = str(contract.path) if contract else ""
    return ComparisonTable(
        apps=tuple(spec.name for spec in apps), rows=tuple(table_rows), contract_source=source
    )


def _dependencies_cell(spec: AppSpec, *, requires: RequiresLookup) -> TableCell:
    server = spec.servers[spec.default_server]
    feature_packages = [name for names in spec.packages.values() for name in names]
    own = dependency_closure([spec.framework, *feature_packages], requires=requires)
    for_server = dependency_closure(server.packages, requires=requires) - own
    return TableCell(
        provided=f"{len(own)} distributions for the framework and its feature packages",
        figures=(f"+{len(for_server)} more for the server {server.name}",),
        notes=(
            f"app: {', '.join(sorted(own))}",
            f"server: {', '.join(sorted(for_server)) or 'nothing more'}",
        ),
    )


NOT_FETCHED = "not fetched"


def _python_text(facts: PackageFacts) -> str:
    requires = f"requires_python {facts.requires_python}" if facts.requires_python else ""
    if facts.python_versions:
        declared = f"declares Python {', '.join(facts.python_versions)}"
        return f"{declared}; {requires}" if requires else declared
    return f"{requires} (no Python 3.x classifiers)" if requires else "declares no Python version"


def _community_cell(spec: AppSpec, *, community: CommunityEvidence | None, run_id: str) -> TableCell:
    command = f"fetch with `{refresh_command(run_id)}`"
    if community is None:
        return TableCell(NOT_FETCHED, notes=(f"no {COMMUNITY_FILE} beside the run: {command}",))
    entry = community.entry(spec.framework)
    if entry is None:
        return TableCell(NOT_FETCHED, notes=(f"{spec.framework} is not in {community.path}: {command}",))
    fetched = entry.fetched_at.date().isoformat()
    if entry.facts is None:
        note = f"PyPI did not answer on {fetched} ({entry.source}): {command}"
        return TableCell(NOT_FETCHED, notes=(note,))
    facts = entry.facts
    count = facts.releases_last_12_months
    return TableCell(
        provided=f"latest release {spec.framework} {facts.latest_version} ({facts.latest_release})",
        figures=(
            f"first release on PyPI {facts.first_version} ({facts.first_release})",
            f"{count} release{'' if count == 1 else 's'} in the 12 months to {facts.as_of}",
            _python_text(facts),
        ),
        notes=(f"PyPI, fetched {fetched}: {entry.source}",),
    )


def _use_case_cell(
    spec: AppSpec,
    *,
    figures: tuple[str, ...],
    version_of: Callable[[str], str | None],
    contract: ContractEvidence | None,
) -> TableCell:
    server = spec.servers[spec.default_server]
    versions = ", ".join(f"{name} {version_of(name) or '?'}" for name in server.packages)
    provided = f"{spec.framework} {version_of(spec.framework) or '(not installed)'} on {server.name}"
    provided += f" ({versions})" if versions else ""
    all_paths = sorted({path for paths in spec.features.values() for path in paths})
    lines, missing = feature_lines(spec.directory, all_paths)
    text, state = _contract(contract, spec.name, None)
    notes = tuple(f"missing file: {path}" for path in missing)
    return TableCell(provided, text, state, figures, lines, notes)


def _feature_cell(
    spec: AppSpec,
    row: str,
    *,
    figures: tuple[str, ...],
    version_of: Callable[[str], str | None],
    contract: ContractEvidence | None,
) -> TableCell:
    lines, missing = feature_lines(spec.directory, spec.features.get(row, ()))
    text, state = _contract(contract, spec.name, (row,))
    notes = [f"missing file: {path}" for path in missing]
    if row not in spec.features:
        notes.append("app.toml maps no module to this row")
    return TableCell(_provided(spec, row, version_of), text, state, figures, lines, tuple(notes))


def cell_lines(cell: TableCell) -> list[str]:
    """Return the cell's content as short lines of text (what comparison.md and the HTML show)."""
    lines = [cell.provided]
    if cell.contract_state != NOT_APPLICABLE:
        lines.append(cell.contract)
    lines.extend(cell.figures)
    if cell.lines_of_code is not None:
        lines.append(f"{cell.lines_of_code} lines of code")
    lines.extend(cell.notes)
    return lines


def render_markdown(table: ComparisonTable) -> str:
    """Return the table in GitHub Markdown (one line per cell, <br> between its parts)."""

    def escape(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    header = "| | " + " | ".join(table.apps) + " |"
    rule = "|---|" + "---|" * len(table.apps)
    lines = [header, rule]
    for row, cells in table.rows:
        parts = [f"**{row.title}**<br>{escape(row.question)}"]
        parts.extend("<br>".join(escape(line) for line in cell_lines(cells[app])) for app in table.apps)
        lines.append("| " + " | ".join(parts) + " |")
    return "\n".join(lines) + "\n"

"""The report of a saved run: reports/<run-id>/index.html (self-contained), comparison.md and summary.csv.

Everything is rendered from the run's results.jsonl and metadata.json (and the community.json stored beside
them, which only refresh_run_community fetches), never from memory, so `make report` rebuilds the same report
from any saved run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from packaging.utils import canonicalize_name

from bench import columns as c
from bench.config import APPS_DIR, AppSpec, installed_version, load_app
from bench.errors import ConfigError
from bench.noise import TIE_MARGIN
from bench.report import aggregate as a
from bench.report.app_facts import versions_in_metadata
from bench.report.charts import history_chart, run_charts
from bench.report.community import (
    COMMUNITY_FILE,
    CommunityEvidence,
    FactsFetcher,
    read_community,
    refresh_community,
)
from bench.report.contract import CONTRACT_FILE, read_contract_evidence
from bench.report.html import RECOMMENDED, ReportContent, VariantLine, render_html
from bench.report.latency.cells import (
    capacity_standings,
    cells_by_key,
    generator_behind_warnings,
    headline_keys,
    sweep_cells,
    sweep_summary,
)
from bench.report.latency.charts import latency_charts
from bench.report.latency.section import LatencySection, build_latency_section
from bench.report.latency.targets import (
    chosen_slo,
    latency_targets,
)
from bench.report.layers.section import (
    CellKey,
    Measured,
    ProfileSection,
    build_profile_section,
    costliest_layers,
    flame_graphs,
)
from bench.report.layers.stacks import Stack, parse_stacks
from bench.report.layers.table import LayerTable, load_layer_table
from bench.report.rows import (
    concurrency_scenarios,
    ordered_scenarios,
    scenario_rows,
    third_party_scenarios,
    unscored_scenarios,
)
from bench.report.score import CPU_SCORE, overall_scores
from bench.report.table import build_comparison_table, capacity_figures, render_markdown
from bench.report.ties import scenario_standings, score_standing
from bench.report.yardstick import yardstick_cells, yardstick_summary
from bench.results import (
    CELL_KEYS,
    METADATA_FILE,
    RESULTS_FILE,
    ProfileRecord,
    read_metadata,
    read_profiles,
    read_rows,
    read_run,
)

log = logging.getLogger(__name__)

INDEX_FILE = "index.html"
COMPARISON_FILE = "comparison.md"
SUMMARY_FILE = "summary.csv"

# summary.csv: the aggregated numbers, one line per cell, in this column order.
SUMMARY_COLUMNS: tuple[str, ...] = (
    c.APP,
    c.SERVER,
    c.SCENARIO,
    c.USERS,
    c.DB,
    c.VARIANT,
    a.STATUS,
    a.TRIALS,
    a.VALID_TRIALS,
    a.GENERATOR_BOUND_TRIALS,
    a.ERROR_TRIALS,
    *(
        column
        for metric in a.METRICS
        for column in (a.median_of(metric), a.ci_low_of(metric), a.ci_high_of(metric), a.cv_of(metric))
    ),
    a.RATIO_TO_BEST,
    a.BOUND_RPS,
    c.REQUESTS,
    c.FAILURES,
    a.ERRORS,
    a.TRIAL_RPS,
)


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    markdown: Path
    csv: Path


def load_run(run_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the run's rows as a frame and its metadata (empty when metadata.json is missing)."""
    rows, metadata = read_run(run_dir)
    return a.frame_from_rows(rows), metadata or {}


def _run_sort_key(run_dir: Path) -> tuple[str, str]:
    metadata_path = run_dir / METADATA_FILE
    started = ""
    if metadata_path.is_file():
        try:
            started = str(read_metadata(metadata_path).get("started_at", ""))
        except ValueError:
            started = ""
    return (started, run_dir.name)


def saved_runs(reports_dir: Path, *, up_to: Path) -> list[tuple[str, pd.DataFrame]]:
    """Return (run id, rows) of every run saved under reports_dir that has rows, oldest first, up to the
    given run (later runs are not history of this one)."""
    folders = {path.parent.resolve() for path in reports_dir.glob(f"*/{RESULTS_FILE}")}
    ordered = sorted(folders, key=_run_sort_key)
    if up_to.resolve() in ordered:
        ordered = ordered[: ordered.index(up_to.resolve()) + 1]
    runs = []
    for folder in ordered:
        frame = a.frame_from_rows(read_rows(folder / RESULTS_FILE))
        if not frame.empty:
            runs.append((folder.name, frame))
    return runs


def _load_apps(names: Sequence[str], *, apps_dir: Path) -> tuple[list[AppSpec], list[str]]:
    specs, notes = [], []
    for name in names:
        try:
            specs.append(load_app(name, apps_dir))
        except ConfigError as exc:
            notes.append(
                f"app {name!r} is in the results but has no app.toml any more ({exc}); not in the table"
            )
    return specs, notes


def version_lookup(metadata: Mapping[str, Any]) -> Callable[[str], str | None]:
    """Return name -> version: as recorded in the run's metadata.json, else as installed now."""
    recorded = versions_in_metadata(metadata)

    def version_of(name: str) -> str | None:
        return recorded.get(canonicalize_name(name)) or installed_version(name)

    return version_of


RUN_COMPLETE = "complete"


def run_warnings(metadata: Mapping[str, Any]) -> list[a.CellWarning]:
    """Return warnings about the run as a whole: one that did not complete, or left no metadata."""
    if not metadata:
        message = "metadata.json is missing: the machine, versions and settings of this run are unknown"
        return [a.CellWarning("", "", "", 0, "incomplete", message)]
    status = metadata.get("status")
    if status is not None and status != RUN_COMPLETE:
        message = f"the run did not complete (status: {status}): cells it did not reach are missing"
        return [a.CellWarning("", "", "", 0, "incomplete", message)]
    return []


@dataclass(frozen=True)
class OpenLoopContent:
    """What a run's open-loop sweeps and wrk yardstick add to its report (nothing for a run without them)."""

    section: LatencySection | None
    capacity: dict[str, str]  # app -> the performance row's capacity line
    warnings: list[a.CellWarning]
    summary: pd.DataFrame  # per cell, the columns summary.csv adds (empty without a sweep or wrk)


def open_loop_content(
    frame: pd.DataFrame,
    metadata: Mapping[str, Any],
    *,
    headline: pd.DataFrame,
    databases: Sequence[str],
    slo_ms: float | None,
) -> OpenLoopContent:
    """Return the open-loop section, the capacity lines, the warnings and the summary columns of a run's
    sweeps and yardstick (slo_ms overrides the latency target)."""
    slo, source = chosen_slo(slo_ms, metadata)
    targets = latency_targets(frame, slo_ms=slo, slo_source=source)
    swept = sweep_cells(frame, targets)
    yardsticks = yardstick_cells(frame)
    if not swept and not yardsticks:
        return OpenLoopContent(None, {}, [], pd.DataFrame())
    section = build_latency_section(
        cells=swept,
        targets=targets,
        standings=capacity_standings(swept),
        yardsticks=yardsticks,
        charts=latency_charts(swept),
        metadata=metadata,
        databases=databases,
        fixed_target=f"{slo:g} ms, {source}" if slo is not None else "",
    )
    parts = [part for part in (sweep_summary(swept), yardstick_summary(yardsticks)) if not part.empty]
    summary = parts[0] if len(parts) == 1 else parts[0].merge(parts[1], on=list(CELL_KEYS), how="outer")
    return OpenLoopContent(
        section=section,
        capacity=capacity_figures(headline_keys(headline), cells_by_key(swept)),
        warnings=generator_behind_warnings(frame),
        summary=summary,
    )


@dataclass(frozen=True)
class ProfileContent:
    section: ProfileSection | None
    flame_graphs: dict[str, str]  # file name beside index.html -> SVG


def measured_figures(cells: pd.DataFrame) -> dict[CellKey, Measured]:
    """Return each cell's measured CPU per request and req/s (medians of its measured trials)."""
    figures: dict[CellKey, Measured] = {}
    for record in cells.to_dict(orient="records"):
        cpu, rps = record.get(a.CPU_PER_REQUEST), record.get(a.median_of(c.RPS))
        if cpu is None or pd.isna(cpu):
            continue
        key = (
            str(record[c.APP]),
            str(record[c.SERVER]),
            str(record[c.SCENARIO]),
            int(record[c.USERS]),
            str(record[c.DB]),
            str(record.get(c.VARIANT) or ""),
        )
        figures[key] = Measured(float(cpu), float(rps) if rps is not None and not pd.isna(rps) else 0.0)
    return figures


def read_stacks(run_dir: Path, records: Sequence[ProfileRecord]) -> dict[str, list[Stack]]:
    """Return the collapsed stacks of the records that have them, by their stacks_file."""
    stacks: dict[str, list[Stack]] = {}
    for record in records:
        path = run_dir / record.stacks_file
        if record.stacks_file and path.is_file():
            with path.open(encoding="utf-8", errors="replace") as handle:
                stacks[record.stacks_file] = parse_stacks(handle)
    return stacks


def profile_content(run_dir: Path, cells: pd.DataFrame, specs: Sequence[AppSpec]) -> ProfileContent:
    """Return the section "Where the time goes" and the flame graphs of a run's profiled trials."""
    records = read_profiles(run_dir)
    if not records:
        return ProfileContent(None, {})
    shared = load_layer_table()
    tables: dict[str, LayerTable] = {record.app: shared for record in records}
    tables.update({spec.name: shared.with_app(spec.layers) for spec in specs})
    stacks = read_stacks(run_dir, records)
    section = build_profile_section(records, stacks=stacks, measured=measured_figures(cells), tables=tables)
    return ProfileContent(section, flame_graphs(records, stacks=stacks, tables=tables))


def build_content(
    run_dir: Path,
    *,
    apps_dir: Path = APPS_DIR,
    slo_ms: float | None = None,
    tie_margin: float = TIE_MARGIN,
) -> ReportContent:
    """Return what the report of the run in run_dir shows (reads the run's files, the apps' app.toml,
    the contract evidence and the earlier runs saved beside it; writes nothing); slo_ms overrides the p99
    target of the open-loop section; tie_margin is the smallest difference a verdict ">" may claim."""
    reports_dir = run_dir.parent
    frame, metadata = load_run(run_dir)
    cells = a.aggregate_cells(frame)
    warnings = [*run_warnings(metadata), *a.collect_warnings(frame, cells)]
    specs, notes = _load_apps(sorted(set(frame[c.APP])), apps_dir=apps_dir)
    preferred = {spec.name: spec.default_server for spec in specs}
    # io's headline compares each framework's concurrency-capable variant (async FastAPI, Flask on gevent,
    # Django on ASGI); the threaded variants' ceiling is stated beside it.
    concurrent = {spec.name: server for spec in specs if (server := concurrent_variant(spec))}
    scenario_servers = {
        (app, scenario): server for app, server in concurrent.items() for scenario in concurrency_scenarios()
    }
    headline = a.headline_cells(cells, preferred_servers=preferred, scenario_servers=scenario_servers)
    # io and docs measure concurrency and document size more than the framework: not in the score.
    scored = headline[~headline[c.SCENARIO].isin(unscored_scenarios())]
    # The CPU score covers every scenario (generator-bound cells too) and is the headline; the throughput
    # score beside it; both with and without the scenarios a third-party package dominates (admin).
    scores = [
        (
            score,
            score_standing(
                frame,
                scored,
                score.ranking,
                metric=c.CPU_MS_PER_REQUEST if score.metric == CPU_SCORE else c.RPS,
                margin=tie_margin,
            ),
        )
        for score in overall_scores(scored, third_party=third_party_scenarios())
    ]
    ranking, overall = scores[0][0].ranking, scores[0][1]
    standings = scenario_standings(frame, headline, metric=c.RPS, margin=tie_margin)
    # The database rows on the run's other databases (SQLite after PostgreSQL), each standing on its own.
    databases = a.ordered_databases(cells[c.DB]) if not cells.empty else []
    other_standings = {
        db: scenario_standings(
            frame,
            a.headline_cells(cells, preferred_servers=preferred, db=db, scenario_servers=scenario_servers),
            metric=c.RPS,
            margin=tie_margin,
        )
        for db in databases[1:]
    }
    open_loop = open_loop_content(frame, metadata, headline=headline, databases=databases, slo_ms=slo_ms)
    warnings += open_loop.warnings
    contract = read_contract_evidence(run_dir / CONTRACT_FILE, reports_dir / CONTRACT_FILE)
    if contract is None:
        notes.append(
            "no contract evidence (contract.json): the table says 'not run'. Write it with "
            "`python -m pytest tests/contract -p tests.contract.recorder`."
        )
    profiles = profile_content(run_dir, cells, specs)
    table = build_comparison_table(
        apps=specs,
        headline=headline,
        ranking=ranking,
        rows_of=scenario_rows(),
        version_of=version_lookup(metadata),
        contract=contract,
        community=read_community(run_dir / COMMUNITY_FILE),
        run_id=run_dir.name,
        overall=overall,
        capacity=open_loop.capacity,
        costliest_layers=costliest_layers(profiles.section),
    )
    charts = run_charts(cells)
    history = a.headline_history(saved_runs(reports_dir, up_to=run_dir), preferred_servers=preferred)
    scenarios = ordered_scenarios(cells[c.SCENARIO])
    history_figure = history_chart(history, scenarios=scenarios)
    if history_figure is not None:
        charts.append(history_figure)
    return ReportContent(
        run_id=run_dir.name,
        metadata=metadata,
        frame=frame,
        cells=cells,
        warnings=warnings,
        ranking=ranking,
        overall=overall,
        scores=scores,
        tie_margin=tie_margin,
        standings=standings,
        unscored=ordered_scenarios(set(cells[c.SCENARIO]) & unscored_scenarios()),
        databases=tuple(databases),
        other_standings=other_standings,
        variants=variant_lines(specs, cells, metadata, databases=databases, concurrent=concurrent),
        scenario_labels=scenario_labels(specs),
        table=table,
        charts=charts,
        notes=notes,
        latency=open_loop.section,
        open_loop=open_loop.summary,
        profiles=profiles.section,
        flame_graphs=profiles.flame_graphs,
    )


def scenario_labels(specs: Sequence[AppSpec]) -> dict[str, str]:
    """Return scenario -> what the apps' figures of it measure beyond the framework, from their app.toml
    [labels]: {"api": "django: Django + DRF", "admin": "fastapi: sqladmin; flask: Flask-Admin; ..."}."""
    by_scenario: dict[str, list[str]] = {}
    for spec in specs:
        for scenario, label in spec.labels.items():
            by_scenario.setdefault(scenario, []).append(f"{spec.name}: {label}")
    return {scenario: "; ".join(labels) for scenario, labels in by_scenario.items()}


def concurrent_variant(spec: AppSpec) -> str | None:
    """Return the app's concurrency-capable variant: its default server when that one is, else the first."""
    if spec.servers[spec.default_server].concurrent:
        return spec.default_server
    return next((name for name, variant in spec.servers.items() if variant.concurrent), None)


def variant_lines(
    specs: Sequence[AppSpec],
    cells: pd.DataFrame,
    metadata: Mapping[str, Any],
    *,
    databases: Sequence[str],
    concurrent: Mapping[str, str],
) -> list[VariantLine]:
    """Return what each measured variant runs (as its app.toml says now) on each of the run's databases, its
    part in the report (concurrent: each app's io variant), and how many requests it serves at once with the
    run's workers and threads."""
    settings = metadata.get("settings", {}).get("profile", {}) if isinstance(metadata, Mapping) else {}
    threads, workers = int(settings.get("threads", 8)), int(settings.get("workers", 1))
    lines = []
    for spec in specs:
        measured = sorted(set(cells.loc[cells[c.APP] == spec.name, c.SERVER])) if not cells.empty else []
        for server in measured:
            if server not in spec.servers:
                continue
            variant = spec.servers[server]
            runs = "; ".join(f"{db}: {variant.describe(db, threads=threads)}" for db in databases) or (
                variant.describe(threads=threads)
            )
            ceiling = (
                f"{workers * threads} requests at once ({workers} worker(s) × {threads} threads)"
                if variant.threads
                else "many requests at once (event loop or greenlets)"
                if variant.concurrent
                else f"{workers} request(s) at once"
            )
            role = f"{RECOMMENDED}: the headline" if server == spec.default_server else "beside it"
            if concurrent.get(spec.name) == server and server != spec.default_server:
                role += "; the io headline"
            lines.append(VariantLine(spec.name, server, role, runs, ceiling, note=variant.note))
    return lines


def refresh_run_community(
    run_dir: Path, *, apps_dir: Path = APPS_DIR, fetch: FactsFetcher | None = None
) -> CommunityEvidence:
    """Return the community facts of the run's frameworks after fetching them from PyPI into the run's
    community.json (a package PyPI did not answer for is stored as not fetched; nothing raises for that)."""
    rows, _ = read_run(run_dir)
    specs, _ = _load_apps(sorted({str(row.get(c.APP)) for row in rows if row.get(c.APP)}), apps_dir=apps_dir)
    return refresh_community(run_dir / COMMUNITY_FILE, [spec.framework for spec in specs], fetch=fetch)


def summary_frame(cells: pd.DataFrame, open_loop: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the aggregated cells as summary.csv holds them: SUMMARY_COLUMNS, then the open-loop and
    yardstick columns when the run has any."""
    summary = cells.reindex(columns=list(SUMMARY_COLUMNS))
    if open_loop is None or open_loop.empty or summary.empty:
        return summary
    return summary.merge(open_loop, on=list(CELL_KEYS), how="left")


def write_report(
    run_dir: Path,
    *,
    apps_dir: Path = APPS_DIR,
    slo_ms: float | None = None,
    tie_margin: float = TIE_MARGIN,
) -> ReportFiles:
    """Write index.html, comparison.md and summary.csv into run_dir and return their paths (slo_ms: the p99
    target of the open-loop section, instead of the profile's or the default rule's; tie_margin: as in
    build_content)."""
    content = build_content(run_dir, apps_dir=apps_dir, slo_ms=slo_ms, tie_margin=tie_margin)
    files = ReportFiles(
        html=run_dir / INDEX_FILE, markdown=run_dir / COMPARISON_FILE, csv=run_dir / SUMMARY_FILE
    )
    files.html.write_text(render_html(content), encoding="utf-8")
    for name, svg in content.flame_graphs.items():
        (run_dir / name).write_text(svg, encoding="utf-8")
    files.markdown.write_text(
        f"<!-- generated by `python -m bench report` from {content.run_id}/{RESULTS_FILE} -->\n"
        + render_markdown(content.table),
        encoding="utf-8",
    )
    summary_frame(content.cells, content.open_loop).to_csv(files.csv, index=False)
    log.debug("report of %s written to %s", content.run_id, files.html)
    return files

"""index.html of a run: one self-contained page (inline CSS and SVG, no script, no external request).

The Python side turns a run's content into plain data (strings already formatted, tuples, small dataclasses);
the Jinja2 templates in templates/ only lay it out, and escape every value they print (autoescaping is on).
Only the charts' SVG, which matplotlib wrote, and the page's own stylesheet pass through unescaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from bench import columns as c
from bench.noise import TIE_MARGIN
from bench.report import aggregate as a
from bench.report.charts import Chart
from bench.report.latency.cells import GENERATOR_BEHIND
from bench.report.latency.section import LatencySection
from bench.report.layers.section import ProfileSection
from bench.report.percentiles import enough_samples, percentile_label
from bench.report.rows import DEPENDENCIES_ROW, ordered_scenarios
from bench.report.score import CPU_SCORE, THROUGHPUT_SCORE, Score
from bench.report.table import (
    CONTRACT_NOT_RUN,
    NOT_APPLICABLE,
    ComparisonTable,
    TableCell,
    format_ms,
    format_rate,
)
from bench.report.ties import Standing
from bench.results import RESULTS_FILE

PAGE_TITLE = "FastAPI, Flask and Django, measured"

TEMPLATES_DIR = Path(__file__).with_name("templates")
PAGE_TEMPLATE = "index.html.j2"
# Inlined into every page: the report is one file that requests nothing.
STYLE_PATH = TEMPLATES_DIR / "report.css"

# metadata.json keys shown first in the environment box, in this order; every other key follows.
METADATA_ORDER = (
    "run_id", "status", "started_at", "finished_at", "profile", "command_line",
    "git", "machine", "python", "database", "settings", "packages", "apps",
)  # fmt: skip

MISSING_METADATA = "missing: machine and versions unknown"

WARNING_LABELS = {
    a.STATUS_ERROR: "failed",
    a.STATUS_GENERATOR_BOUND: "load generator was the limit",
    "noisy": "too noisy",
    "failures": "failed requests",
    "data_check": "data check failed",
    "missing": "missing",
    "mixed": "mixed settings",
    "few_trials": "too few trials",
    "incomplete": "run incomplete",
    GENERATOR_BEHIND: "load generator fell behind",
}


@dataclass(frozen=True)
class ReportContent:
    """Everything index.html shows, computed from the run's files."""

    run_id: str
    metadata: Mapping[str, Any]
    frame: pd.DataFrame
    cells: pd.DataFrame
    warnings: Sequence[a.CellWarning]
    ranking: pd.DataFrame
    table: ComparisonTable
    charts: Sequence[Chart]
    notes: Sequence[str]
    overall: Standing | None = None  # which apps the run's noise cannot tell apart on the headline score
    # Every overall score (CPU per request, throughput; with and without third-party scenarios), each with
    # what the run can tell apart on it; ranking and overall above are the first of them.
    scores: Sequence[tuple[Score, Standing]] = ()
    tie_margin: float = TIE_MARGIN
    standings: Mapping[str, Standing] = field(default_factory=dict)  # the same per scenario (throughput)
    unscored: Sequence[str] = ()  # scenarios of the run left out of the overall score
    databases: Sequence[str] = ()  # in report order: the first is the headline's (PostgreSQL first)
    other_standings: Mapping[str, Mapping[str, Standing]] = field(default_factory=dict)  # by database
    variants: Sequence[VariantLine] = ()
    # scenario -> what some apps' figures of it measure beyond the framework, e.g. "django: Django + DRF"
    scenario_labels: Mapping[str, str] = field(default_factory=dict)
    latency: LatencySection | None = None  # the open-loop section; None: the run has no sweep nor wrk figure
    open_loop: pd.DataFrame | None = None  # per cell, what summary.csv adds for the sweeps and wrk
    profiles: ProfileSection | None = None  # "Where the time goes"; None: the run profiled no cell
    flame_graphs: Mapping[str, str] = field(default_factory=dict)  # file name beside index.html -> SVG


@dataclass(frozen=True)
class VariantLine:
    """One measured variant: what it runs (per database), its part in the report, what it serves at once."""

    app: str
    server: str
    role: str
    runs: str
    at_once: str
    note: str = ""  # what a reader of its figures should know (app.toml's note)


# ---- what the templates receive: plain, formatted data --------------------------------------------------


@dataclass(frozen=True)
class ScoreLine:
    """One overall score as the summary shows it."""

    title: str  # e.g. "CPU per request, every scored scenario"
    scenarios: str  # the scenarios it covers
    ranking: list[tuple[int, str, str]]  # (rank, app with its variant, score as a percentage)
    standing: str  # e.g. "django ≈ flask > fastapi (pairs: ...)"; "" when the run cannot say


@dataclass(frozen=True)
class Summary:
    cells: int
    trials: str  # the distinct trial counts of the cells, e.g. "3" or "1, 3"
    scores: list[ScoreLine]  # the headline score first; empty when nothing is ranked
    tie_margin: str  # e.g. "5%": the smallest lead a ">" claims
    standings: list[tuple[str, str]]  # (scenario, its standing as text), in the report's scenario order
    databases: str  # e.g. "postgres, sqlite": the headline's database first
    other_standings: list[tuple[str, list[tuple[str, str]]]]  # (database, its standings) after the first
    unscored: str  # the run's scenarios left out of the score, e.g. "io, docs"
    warnings: int
    flagged: int


@dataclass(frozen=True)
class ComparisonCell:
    facts: TableCell
    badge: str | None  # the CSS class of the contract badge; None where the row has no contract tests


@dataclass(frozen=True)
class ComparisonRow:
    title: str
    question: str
    cells: list[ComparisonCell]  # in the order of the table's apps
    fold_notes: bool  # the dependencies row lists many packages: they go under a "which" disclosure


@dataclass(frozen=True)
class CellLine:
    """One line of the "Every cell" table; numbers holds the right-aligned columns from req/s to MB/worker."""

    app: str
    server: str
    db: str
    scenario: str
    users: str
    status: str
    valid_trials: str
    numbers: tuple[str, ...]
    trial_rps: str
    muted: tuple[bool, ...] = ()  # per number: greyed (a p99 from too few requests)


@dataclass(frozen=True)
class Page:
    """The variables of index.html.j2, one field each."""

    title: str
    run_id: str
    date: str
    style: Markup
    summary: Summary
    measured: list[tuple[str, str]]
    environment: list[tuple[str, str]]
    metadata: list[tuple[str, str]]
    noisy: str
    warnings: list[tuple[str, str, str]]  # (cell, what, details)
    apps: tuple[str, ...]
    comparison: list[ComparisonRow]
    contract_source: str
    notes: Sequence[str]
    charts: list[Chart]  # each with its svg as Markup
    cell_lines: list[CellLine]
    results_file: str
    startup: list[
        tuple[str, str, str, str, str, str]
    ]  # app, server, s to first 200, ms, MB at rest, under load
    variants: Sequence[VariantLine]
    latency: LatencySection | None  # its charts' svg as Markup
    profiles: ProfileSection | None


def _number(value: float, formatter: Callable[[float], str] = format_rate) -> str:
    return "–" if math.isnan(value) else formatter(value)


def _percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1%}"


def _flatten(metadata: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in metadata.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, f"{name} › ")
        elif isinstance(value, list | tuple):
            yield name, ", ".join(str(item) for item in value)
        else:
            yield name, str(value)


def _at(metadata: Mapping[str, Any], path: str) -> Any:
    value: Any = metadata
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _joined(*parts: Any, separator: str = " ") -> str:
    return separator.join(str(part) for part in parts if part not in (None, "", [], {}))


def environment_facts(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the facts a reader needs first from metadata.json as (label, text), leaving out unknown ones."""
    apps = _at(metadata, "apps") or {}
    frameworks = ", ".join(
        _joined(entry.get("framework"), entry.get("framework_version"))
        for entry in apps.values()
        if isinstance(entry, Mapping)
    )
    servers = sorted(
        {
            f"{name} {version}"
            for entry in apps.values()
            if isinstance(entry, Mapping)
            for packages in (entry.get("servers") or {}).values()
            for name, version in packages.items()
        }
    )
    dirty = " (with uncommitted changes)" if _at(metadata, "git.dirty") else ""
    database_kind = _at(metadata, "database.kind")
    facts = [
        ("started", _joined(_at(metadata, "started_at"))),
        (
            "finished",
            _joined(_at(metadata, "finished_at"), f"({metadata['status']})" if "status" in metadata else ""),
        ),
        ("profile", _joined(_at(metadata, "profile") or _at(metadata, "settings.profile.name"))),
        ("commit", _joined(_at(metadata, "git.commit") or _at(metadata, "commit")) + dirty),
        ("CPU", _joined(_at(metadata, "machine.cpu_model") or _at(metadata, "cpu_model"))),
        (
            "cores, memory",
            _joined(_at(metadata, "machine.logical_cpus"), "CPUs,", _at(metadata, "machine.memory_mb"), "MB"),
        ),
        ("system", _joined(_at(metadata, "machine.system"), _at(metadata, "machine.kernel"))),
        (
            "CPU split",
            _joined(
                f"server on {_at(metadata, 'settings.server_cpus')}",
                f"database on {_at(metadata, 'settings.db_cpus')}",
                f"Locust on {_at(metadata, 'settings.load_cpus')}",
                separator=", ",
            )
            if _at(metadata, "settings.db_cpus") is not None
            else _joined(
                f"server and database on {_at(metadata, 'settings.server_cpus')}",
                f"Locust on {_at(metadata, 'settings.load_cpus')}",
                separator=", ",
            )
            if _at(metadata, "settings.server_cpus") is not None
            else "",
        ),
        ("Python", _joined(_at(metadata, "python.implementation"), _at(metadata, "python.version"))),
        (
            "database",
            _joined(database_kind, _at(metadata, f"database.{database_kind}") if database_kind else None),
        ),
        ("frameworks", frameworks),
        ("servers", ", ".join(servers)),
        ("Locust", _joined(_at(metadata, "packages.locust"))),
        ("command", _joined(_at(metadata, "command_line"))),
    ]
    return [(label, text) for label, text in facts if text.strip() and text.strip() != "CPUs, MB"]


def _ordered_metadata(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    first = [key for key in METADATA_ORDER if key in metadata]
    rest = sorted(key for key in metadata if key not in METADATA_ORDER)
    return list(_flatten({key: metadata[key] for key in [*first, *rest]}))


def _values(frame: pd.DataFrame, column: str) -> str:
    return ", ".join(str(value) for value in sorted(set(frame[column])))


def _measured_facts(
    frame: pd.DataFrame, cells: pd.DataFrame, metadata: Mapping[str, Any]
) -> list[tuple[str, str]]:
    durations = sorted({round(float(value), 1) for value in frame["duration_s"]})
    workers = sorted({int(value) for value in frame["workers"]})
    return [
        ("apps", _values(frame, c.APP)),
        ("servers", _values(frame, c.SERVER)),
        ("scenarios", _values(frame, c.SCENARIO)),
        ("concurrent users", _values(frame, c.USERS)),
        ("database", _values(frame, c.DB)),
        ("workers per server", ", ".join(str(value) for value in workers)),
        ("trials per cell", ", ".join(str(value) for value in sorted(set(cells[a.TRIALS])))),
        ("measured window per trial (s)", ", ".join(f"{value:g}" for value in durations)),
        ("warm-up per trial (s)", _joined(_at(metadata, "settings.profile.warmup_s")) or "not recorded"),
        ("rows in results.jsonl", str(len(frame))),
    ]


# ---- the page's parts --------------------------------------------------------------------------------------


RECOMMENDED = "recommended"  # how a VariantLine's role starts for the variant the headline comes from


def _with_variant(app: str, recommended: Mapping[str, str]) -> str:
    """Return "flask (gunicorn)": the app and the variant its headline figures come from, where known."""
    return f"{app} ({recommended[app]})" if app in recommended else app


def _standing_lines(
    standings: Mapping[str, Standing], labels: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """Return (scenario, its standing and, with three apps or more, every pair's verdict) lines; a scenario
    with labels names them after its standing."""
    lines = []
    for scenario in ordered_scenarios(standings):
        if not standings[scenario].text:
            continue
        text = _standing_with_pairs(standings[scenario])
        label = (labels or {}).get(scenario)
        lines.append((scenario, f"{text} ({label})" if label else text))
    return lines


def _standing_with_pairs(standing: Standing) -> str:
    # With two apps the order text is the pair's verdict; with more, the pairs say what a chain of ties hides.
    if len(standing.verdicts) < 2:
        return standing.text
    return f"{standing.text} (pairs: {standing.pairs_text})"


SCORE_TITLES = {CPU_SCORE: "server CPU per request", THROUGHPUT_SCORE: "throughput (requests/s)"}


def _score_line(score: Score, standing: Standing, *, recommended: Mapping[str, str]) -> ScoreLine:
    ranked = score.ranking.dropna(subset=[a.SCORE])
    scores = {str(row[c.APP]): float(row[a.SCORE]) for _, row in ranked.iterrows()}
    # Apps the run cannot tell apart share a place and are listed alphabetically (standing.groups), not by
    # a score difference the run cannot vouch for; apps it cannot judge follow in score order.
    places = [(place, app) for place, group in enumerate(standing.groups, start=1) for app in group]
    judged = {app for _, app in places}
    rank = {str(row[c.APP]): int(row[a.RANK]) for _, row in ranked.iterrows()}
    places += [(rank[app], app) for app in scores if app not in judged]
    return ScoreLine(
        title=f"{SCORE_TITLES.get(score.metric, score.metric)}, {score.scope}",
        scenarios=score.scenarios,
        ranking=[
            (place, _with_variant(app, recommended), f"{scores[app]:.0%}")
            for place, app in places
            if app in scores
        ],
        standing=_standing_with_pairs(standing) if standing.groups else "",
    )


def _summary(content: ReportContent) -> Summary:
    """Return the numbers of the "In short" section."""
    cells = content.cells
    recommended = {line.app: line.server for line in content.variants if line.role.startswith(RECOMMENDED)}
    return Summary(
        cells=len(cells),
        trials=", ".join(str(value) for value in sorted(set(cells[a.TRIALS]))),
        tie_margin=f"{content.tie_margin:.0%}",
        scores=[
            _score_line(score, standing, recommended=recommended)
            for score, standing in content.scores
            if score.scenarios
        ],
        unscored=", ".join(content.unscored),
        standings=_standing_lines(content.standings, content.scenario_labels),
        databases=", ".join(content.databases),
        other_standings=[
            (db, lines)
            for db, by_scenario in content.other_standings.items()
            if (lines := _standing_lines(by_scenario, content.scenario_labels))
        ],
        warnings=len(content.warnings),
        flagged=int((cells[a.STATUS] != a.STATUS_OK).sum()),
    )


def _badge(cell: TableCell) -> str | None:
    """Return the CSS class of a cell's contract badge, or None where its row has no contract tests."""
    if cell.contract_state == NOT_APPLICABLE:
        return None
    # A CSS class cannot hold the space of "not run".
    return "not-run" if cell.contract_state == CONTRACT_NOT_RUN else cell.contract_state


def _comparison_rows(table: ComparisonTable) -> list[ComparisonRow]:
    """Return the comparison table's rows, each with its cells in the order of table.apps."""
    return [
        ComparisonRow(
            title=row.title,
            question=row.question,
            cells=[ComparisonCell(cells[app], _badge(cells[app])) for app in table.apps],
            fold_notes=row.key == DEPENDENCIES_ROW,
        )
        for row, cells in table.rows
    ]


def _startup_lines(frame: pd.DataFrame) -> list[tuple[str, str, str, str, str, str]]:
    """Return the "Startup and memory" table: one line per app and server, numbers formatted."""
    megabytes: Callable[[float], str] = lambda value: f"{value:.0f}"  # noqa: E731
    return [
        (
            str(record[c.APP]),
            str(record[c.SERVER]),
            _number(record[c.STARTUP_S], lambda value: f"{value:.2f}"),
            _number(record[c.FIRST_REQUEST_MS], format_ms),
            _number(record[a.REST_MEMORY_PER_WORKER], megabytes),
            _number(record[a.LOAD_MEMORY_PER_WORKER], megabytes),
        )
        for record in a.startup_and_memory(frame).to_dict(orient="records")
    ]


P99_COLUMN = 5  # the index of p99 in CellLine.numbers


def _cell_lines(cells: pd.DataFrame) -> list[CellLine]:
    """Return one line per cell, in scenario order, then by users, app and server."""
    order = {name: index for index, name in enumerate(ordered_scenarios(cells[c.SCENARIO]))}
    ordered = cells.assign(_order=cells[c.SCENARIO].map(order)).sort_values(
        ["_order", c.DB, c.USERS, c.APP, c.SERVER]
    )
    lines = []
    for record in ordered.to_dict(orient="records"):
        rps, low, high = (record[f(c.RPS)] for f in (a.median_of, a.ci_low_of, a.ci_high_of))
        interval = "–" if math.isnan(low) else f"{format_rate(low)}–{format_rate(high)}"
        if record[a.STATUS] == a.STATUS_GENERATOR_BOUND:
            # Locust was the limit: the app served at least this much, maybe more.
            rps_text = f"≥ {format_rate(record[a.BOUND_RPS])}"
        else:
            rps_text = _number(rps)
        samples = int(record.get(a.TRIAL_REQUESTS, 0) or 0)
        p99 = _number(record[a.median_of(c.LATENCY_P99)], format_ms)
        p99_text = p99 if p99 == "–" else f"{p99} ({percentile_label(samples, quantile=0.99)})"
        numbers = (
            rps_text,
            interval,
            _percent(record[a.cv_of(c.RPS)]),
            _percent(record[a.RATIO_TO_BEST]),
            _number(record[a.median_of(c.LATENCY_P50)], format_ms),
            p99_text,
            _number(record[a.CPU_PER_REQUEST], format_ms),
            _number(record[a.median_of(c.DB_CPU_MS_PER_REQUEST)], format_ms),
            _number(record[a.median_of(a.APP_DB_CPU_MS_PER_REQUEST)], format_ms),
            _number(record[a.median_of(a.MEMORY_PER_WORKER)], lambda value: f"{value:.0f}"),
        )
        lines.append(
            CellLine(
                app=str(record[c.APP]),
                server=str(record[c.SERVER]),
                db=str(record[c.DB]),
                scenario=str(record[c.SCENARIO]),
                users=str(record[c.USERS]),
                status=str(record[a.STATUS]),
                valid_trials=f"{record[a.VALID_TRIALS]} of {record[a.TRIALS]}",
                numbers=numbers,
                trial_rps=str(record[a.TRIAL_RPS]),
                muted=tuple(
                    index == P99_COLUMN and not enough_samples(samples, quantile=0.99)
                    for index in range(len(numbers))
                ),
            )
        )
    return lines


def page_of(content: ReportContent) -> Page:
    """Return the variables index.html.j2 lays out for the content of one run."""
    metadata = content.metadata
    date = metadata.get("started_at") or (content.frame[c.STARTED_AT].min() or "date not recorded")
    return Page(
        title=PAGE_TITLE,
        run_id=content.run_id,
        date=str(date),
        # Passed as text rather than included as a template, so that braces in CSS are never Jinja syntax.
        style=Markup(STYLE_PATH.read_text(encoding="utf-8")),
        summary=_summary(content),
        measured=_measured_facts(content.frame, content.cells, metadata),
        environment=environment_facts(metadata) or [("metadata.json", MISSING_METADATA)],
        metadata=_ordered_metadata(metadata),
        noisy=f"{a.NOISY_CV:.0%}",
        warnings=[
            (warning.cell, WARNING_LABELS.get(warning.kind, warning.kind), warning.message)
            for warning in content.warnings
        ],
        apps=content.table.apps,
        comparison=_comparison_rows(content.table),
        contract_source=content.table.contract_source,
        notes=content.notes,
        # matplotlib wrote the SVG: it is markup to embed, where escaping it would show its source as text.
        charts=[replace(chart, svg=Markup(chart.svg)) for chart in content.charts],
        cell_lines=_cell_lines(content.cells),
        results_file=RESULTS_FILE,
        startup=_startup_lines(content.frame),
        variants=content.variants,
        latency=_with_markup(content.latency),
        profiles=content.profiles,
    )


def _with_markup(section: LatencySection | None) -> LatencySection | None:
    """Return the section with its charts' SVG marked as markup to embed (matplotlib wrote it)."""
    if section is None:
        return None
    return replace(section, charts=[replace(chart, svg=Markup(chart.svg)) for chart in section.charts])


ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    # Every template, whatever its name ends with: select_autoescape would miss "*.html.j2".
    autoescape=True,
    # A misspelt variable fails the build instead of leaving a blank in the page.
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_html(content: ReportContent) -> str:
    """Return index.html for the content of one run."""
    return ENVIRONMENT.get_template(PAGE_TEMPLATE).render(vars(page_of(content)))

"""index.html of a run: one self-contained page (inline CSS and SVG, no script, no external request)."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bench import columns as c
from bench.report import aggregate as a
from bench.report.rows import DEPENDENCIES_ROW, ordered_scenarios
from bench.report.table import (
    CONTRACT_NOT_RUN,
    NOT_APPLICABLE,
    ComparisonTable,
    TableCell,
    format_ms,
    format_rate,
)
from bench.results import RESULTS_FILE

if TYPE_CHECKING:
    from bench.report.build import ReportContent

PAGE_TITLE = "FastAPI, Flask and Django, measured"

# metadata.json keys shown first in the environment box, in this order; every other key follows.
METADATA_ORDER = (
    "run_id",
    "status",
    "started_at",
    "finished_at",
    "profile",
    "command_line",
    "git",
    "machine",
    "python",
    "database",
    "settings",
    "packages",
    "apps",
)

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
}

# Inlined into every page: the report is one file that requests nothing.
STYLE_PATH = Path(__file__).with_name("report.css")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


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


def _summary(content: ReportContent) -> str:
    cells, ranking = content.cells, content.ranking
    flagged = cells[cells[a.STATUS] != a.STATUS_OK]
    trials = ", ".join(str(value) for value in sorted(set(cells[a.TRIALS])))
    parts = [
        f"<p>{len(cells)} cells measured (app × server × scenario × concurrent users), "
        f"{esc(trials)} trial(s) each. Figures are medians over the valid trials of a cell.</p>"
    ]
    ranked = ranking.dropna(subset=[a.SCORE])
    if not ranked.empty:
        order = ", ".join(
            f"{int(row[a.RANK])}. <strong>{esc(row[c.APP])}</strong> ({float(row[a.SCORE]):.0%})"
            for _, row in ranked.iterrows()
        )
        scored = esc(ranked.iloc[0][a.SCORED_SCENARIOS])
        parts.append(
            "<p>Ranked by throughput: each app's requests per second as a share of the fastest app's in the "
            f"same scenario, averaged (geometric mean) over the scenarios every app completed ({scored}); "
            f"100% would mean fastest everywhere: {order}.</p>"
        )
    else:
        parts.append("<p>No ranking: no scenario has a valid figure for every app.</p>")
    if content.warnings:
        parts.append(
            f'<p>The <a href="#warnings">warnings</a> list {len(content.warnings)} reason(s) to doubt '
            "some figures: read them before the numbers.</p>"
        )
    if len(flagged):
        parts.append(
            f"<p><strong>{len(flagged)} of {len(cells)} cells are flagged</strong> (failed, "
            "generator-bound or only partly valid); the warnings below say which and why.</p>"
        )
    return "\n".join(parts)


HOW_TO_READ = """
<ul>
<li><strong>A cell</strong> is one app on one server, under one scenario (a Locust workload), at one number
of concurrent simulated users. Each cell ran one or more <strong>trials</strong>, interleaved in shuffled
order with the other cells so that a slow spell of the machine hits every app alike; each trial's
measured window follows a warm-up that is not counted.</li>
<li><strong>req/s</strong> (higher is better) is the median over valid trials. <strong>[low–high]</strong>
is the 95% bootstrap confidence interval of that median: where two apps' intervals overlap, this run does
not show which is faster. With three trials the interval is close to the lowest and highest trial.</li>
<li><strong>p50 / p99</strong> (lower is better): half of the requests, and 99 in 100, were answered within
this time. <strong>CPU ms per request</strong>: the server's CPU time divided by the requests it
served.</li>
<li><strong>CV</strong>, the coefficient of variation, is how much the trials of a cell disagree; above
{noisy} the cell is listed as too noisy.</li>
<li><strong>Generator-bound</strong>: the load generator (Locust) ran out of CPU before the app did, so the
figure measures Locust, not the app; it is shown as "≥" and left out of medians and rankings.
<strong>Failed</strong>: the server did not start, died, or answered too many requests wrongly.</li>
<li><strong>Compare apps within one run.</strong> Apps measured side by side share the machine's slow spells;
two runs made at different times do not: on a shared host a whole run can come out 10–20% dearer than another
for every app alike (README, "Repeatability of the quick profile"). To compare two versions, use
<code>make check</code>, which interleaves them in one run.</li>
<li>The <strong>comparison table</strong> quotes each app on its default server at the largest user count of
each scenario. "contract" says whether the contract tests of that feature passed; "lines of code" counts the
non-blank lines of the modules the app maps to the row in its app.toml, without comments and
docstrings.</li>
</ul>
"""


def _contract_badge(cell: TableCell) -> str:
    if cell.contract_state == NOT_APPLICABLE:
        return ""
    css = "not-run" if cell.contract_state == CONTRACT_NOT_RUN else cell.contract_state
    return f'<div><span class="badge {esc(css)}">{esc(cell.contract)}</span></div>'


def _comparison_cell(cell: TableCell, *, row_key: str) -> str:
    parts = [f"<div>{esc(cell.provided)}</div>", _contract_badge(cell)]
    if cell.figures:
        parts.append("<ul>" + "".join(f"<li>{esc(figure)}</li>" for figure in cell.figures) + "</ul>")
    if cell.lines_of_code is not None:
        parts.append(f'<div class="muted">{cell.lines_of_code} lines of code</div>')
    if cell.notes and row_key == DEPENDENCIES_ROW:
        items = "".join(f"<li>{esc(note)}</li>" for note in cell.notes)
        parts.append(f"<details><summary>which</summary><ul class='notes'>{items}</ul></details>")
    elif cell.notes:
        parts.append("".join(f'<div class="notes">{esc(note)}</div>' for note in cell.notes))
    return "<td>" + "".join(parts) + "</td>"


def _comparison_table(table: ComparisonTable) -> str:
    if not table.apps:
        return "<p>No app of this run has an app.toml, so there is no comparison table.</p>"
    head = "".join(f'<th scope="col">{esc(app)}</th>' for app in table.apps)
    body = []
    for row, cells in table.rows:
        title = f'<th scope="row">{esc(row.title)}<small>{esc(row.question)}</small></th>'
        body.append(
            "<tr>" + title + "".join(_comparison_cell(cells[app], row_key=row.key) for app in table.apps)
        )
    source = f"Contract evidence: <code>{esc(table.contract_source)}</code>." if table.contract_source else ""
    return (
        f'<table class="comparison"><thead><tr><th></th>{head}</tr></thead><tbody>{"</tr>".join(body)}</tr>'
        f'</tbody></table><p class="muted">{source}</p>'
    )


def _warnings_box(warnings: Iterable[a.CellWarning]) -> str:
    rows = [
        f"<tr><td>{esc(warning.cell)}</td><td>{esc(WARNING_LABELS.get(warning.kind, warning.kind))}</td>"
        f"<td>{esc(warning.message)}</td></tr>"
        for warning in warnings
    ]
    if not rows:
        return (
            '<div class="box clean" id="warnings"><strong>No warnings.</strong> Every trial is valid, '
            "no cell is noisier than the threshold, none is missing.</div>"
        )
    return (
        f'<div class="box warnings" id="warnings"><p><strong>{len(rows)} warning(s).</strong> Figures of the '
        "cells below are missing, partial or less certain than they look.</p>"
        "<table><thead><tr><th>cell</th><th>what</th><th>details</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _cells_table(cells: pd.DataFrame) -> str:
    header = (
        "app", "server", "scenario", "users", "status", "valid trials", "req/s", "95% CI", "CV", "of best",
        "p50 ms", "p99 ms", "CPU ms/req", "MB/worker", "req/s of each trial (#trial=value)",
    )  # fmt: skip
    rows = []
    order = {name: index for index, name in enumerate(ordered_scenarios(cells[c.SCENARIO]))}
    ordered = cells.assign(_order=cells[c.SCENARIO].map(order)).sort_values(
        ["_order", c.USERS, c.APP, c.SERVER]
    )
    for record in ordered.to_dict(orient="records"):
        rps, low, high = (record[f(c.RPS)] for f in (a.median_of, a.ci_low_of, a.ci_high_of))
        interval = "–" if math.isnan(low) else f"{format_rate(low)}–{format_rate(high)}"
        if record[a.STATUS] == a.STATUS_GENERATOR_BOUND:
            rps_text = f"≥ {format_rate(record[a.BOUND_RPS])}"
        else:
            rps_text = _number(rps)
        numbers = (
            rps_text,
            interval,
            _percent(record[a.cv_of(c.RPS)]),
            _percent(record[a.RATIO_TO_BEST]),
            _number(record[a.median_of(c.LATENCY_P50)], format_ms),
            _number(record[a.median_of(c.LATENCY_P99)], format_ms),
            _number(record[a.median_of(c.CPU_MS_PER_REQUEST)], format_ms),
            _number(record[a.median_of(a.MEMORY_PER_WORKER)], lambda value: f"{value:.0f}"),
        )
        status = esc(record[a.STATUS])
        rows.append(
            f"<tr><td>{esc(record[c.APP])}</td><td>{esc(record[c.SERVER])}</td><td>{esc(record[c.SCENARIO])}</td>"
            f'<td class="number">{record[c.USERS]}</td><td class="status-{status}">{status}</td>'
            f'<td class="number">{record[a.VALID_TRIALS]} of {record[a.TRIALS]}</td>'
            + "".join(f'<td class="number">{esc(value)}</td>' for value in numbers)
            + f'<td class="muted">{esc(record[a.TRIAL_RPS])}</td></tr>'
        )
    head = "".join(f"<th>{esc(name)}</th>" for name in header)
    table = f'<table class="cells"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    return f'<div class="scroll">{table}</div>'


def render_html(content: ReportContent) -> str:
    """Return index.html for the content of one run."""
    metadata = content.metadata
    how_to_read = HOW_TO_READ.replace("{noisy}", f"{a.NOISY_CV:.0%}")
    date = metadata.get("started_at") or (content.frame[c.STARTED_AT].min() or "date not recorded")
    environment = environment_facts(metadata) or [("metadata.json", "missing: machine and versions unknown")]
    everything = "".join(
        f"<dt>{esc(key)}</dt><dd>{esc(value)}</dd>" for key, value in _ordered_metadata(metadata)
    )
    facts = "".join(
        f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>"
        for k, v in _measured_facts(content.frame, content.cells, metadata)
    )
    recorded = "".join(f"<dt>{esc(key)}</dt><dd>{esc(value)}</dd>" for key, value in environment)
    notes = "".join(f'<p class="notes">{esc(note)}</p>' for note in content.notes)
    charts = "".join(
        f'<figure id="chart-{esc(chart.name)}"><h3>{esc(chart.title)}</h3>{chart.svg}'
        f"<figcaption>{esc(chart.caption)}</figcaption></figure>"
        for chart in content.charts
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(PAGE_TITLE)} · {esc(content.run_id)}</title>
<style>
{STYLE_PATH.read_text(encoding="utf-8")}</style>
</head>
<body>
<header>
<h1>{esc(PAGE_TITLE)}</h1>
<p class="lead">Run <code>{esc(content.run_id)}</code> · {esc(date)} · three apps implementing one contract,
loaded by Locust on the machine described below.</p>
</header>
<section id="summary"><h2>In short</h2>{_summary(content)}</section>
<h2 id="environment-title">Environment</h2>
<section id="environment" class="environment">
<div class="box"><h3>What ran</h3><dl class="environment">{facts}</dl></div>
<div class="box"><h3>Machine and versions (metadata.json)</h3><dl class="environment">{recorded}</dl>
<details><summary>everything in metadata.json</summary>
<dl class="environment all">{everything}</dl></details></div>
</section>
<section id="how-to-read"><h2>How to read this</h2>{how_to_read}</section>
<section id="warnings-section"><h2>Warnings</h2>{_warnings_box(content.warnings)}</section>
<section id="comparison"><h2>Comparison</h2>{_comparison_table(content.table)}{notes}</section>
<section id="charts"><h2>Charts</h2>{charts or "<p>No chart: no cell has a valid figure.</p>"}</section>
<section id="cells"><h2>Every cell</h2>
<p>One line per cell of <code>{RESULTS_FILE}</code>; the last column lists each trial's throughput, so every
figure above can be traced to the rows it comes from.</p>{_cells_table(content.cells)}</section>
<footer>Generated by <code>python -m bench report</code> from <code>{RESULTS_FILE}</code> and
<code>metadata.json</code> in this folder; <code>summary.csv</code> holds the aggregated numbers and
<code>comparison.md</code> the table in Markdown. Rebuild it with
<code>make report ARGS=reports/{esc(content.run_id)}</code>.
</footer>
</body>
</html>
"""

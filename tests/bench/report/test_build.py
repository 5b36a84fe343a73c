"""bench/report/build.py, bench/report/html.py and `python -m bench report`: the files of a report, built
from a saved synthetic run, and clear errors when there is no run to report."""

from __future__ import annotations

import copy
import csv
import html
import json
import math
import re
import statistics
from dataclasses import replace
from pathlib import Path

import pytest

from bench import columns as c
from bench.cli import main
from bench.errors import EXIT_OK, EXIT_USAGE, RunNotFoundError
from bench.report import aggregate as a
from bench.report.build import SUMMARY_COLUMNS, build_content, summary_frame, write_report
from bench.report.html import render_html
from bench.report.latency.cells import CAPACITY_MEDIAN, GENERATOR_BEHIND, SWEEP_SUMMARY_COLUMNS
from bench.report.table import format_rate
from bench.report.yardstick import LOCUST_TO_WRK, WRK_RPS_MEDIAN
from bench.results import RESULTS_FILE, ResultRow
from tests.bench.report.synthetic_sweep import PROFILE, SHARES, hockey_stick, sweep, with_sweep, with_sweeps
from tests.bench.synthetic_run import METADATA, flag, synthetic_rows, write_apps, write_run


@pytest.fixture
def apps_dir(tmp_path: Path) -> Path:
    return write_apps(tmp_path / "apps")


def test_a_run_without_results_is_an_error(tmp_path: Path, apps_dir: Path) -> None:
    run_dir = tmp_path / "reports" / "run"
    run_dir.mkdir(parents=True)
    with pytest.raises(RunNotFoundError, match="does not exist"):
        write_report(run_dir, apps_dir=apps_dir)
    (run_dir / RESULTS_FILE).write_text('{"app": "flask", "server": "gunic')  # a run that died mid-line
    with pytest.raises(RunNotFoundError, match="no complete row"):
        write_report(run_dir, apps_dir=apps_dir)


def test_report_files_of_a_run_with_flagged_and_missing_cells(tmp_path: Path, apps_dir: Path) -> None:
    rows = synthetic_rows()
    rows = flag(rows, app="fastapi", scenario="plaintext", generator_bound=True, rps=12_500.0)
    rows = flag(rows, app="flask", scenario="io", error="server died mid-run <exit -9>")
    rows = [row for row in rows if not (row.app == "django" and row.scenario == "db")]
    run_dir = write_run(tmp_path / "reports" / "20250101-120000", rows)

    files = write_report(run_dir, apps_dir=apps_dir)

    page = files.html.read_text(encoding="utf-8")
    text = html.unescape(page)
    assert "server died mid-run <exit -9>" in text and "&lt;exit -9&gt;" in page, "messages are escaped"
    assert "load generator was the limit" in text
    assert "missing: results.jsonl has no row" in text
    assert "Synthetic CPU @ 2.0GHz" in text and "0123456789ab" in text, "the environment box shows metadata"
    assert "contract: not run" in text and "tests.contract.recorder" in text
    assert "Compare apps within one run." in text, "the reader is told runs at different times drift"
    summary = text[text.index("In short") : text.index("</section>", text.index("In short"))]
    assert "what the run can tell apart" in summary
    assert "server CPU per request, every scored scenario" in summary
    assert "throughput (requests/s), every scored scenario" in summary
    assert "without admin" not in summary, "no admin scenario in this run: one score of each kind"
    # The CPU score keeps plaintext, where fastapi out-ran the generator; the throughput score cannot.
    cpu_row = summary[
        summary.index("server CPU per request, every") : summary.index("throughput (requests/s)")
    ]
    assert "plaintext" in cpu_row
    throughput_row = summary[summary.index("throughput (requests/s), every") :]
    assert "plaintext" not in throughput_row[: throughput_row.index("</tr>")]
    assert "Startup and memory" in text and "s to first 200" in text
    assert "Not in the scores: io" in summary
    # Synthetic trials hold 20 s of requests, thousands each: every p99 names its n, none is greyed.
    cells_table = text[text.index('<section id="cells">') :]
    assert re.search(r"\d \(n=\d[\d,]*\)</td>", cells_table)
    assert "too few for a p99" not in cells_table, "io measures concurrency, not the cost per request"
    assert "plaintext</strong>: " in summary and "fastapi: the load generator was the limit" in summary
    assert "io</strong>: " in summary and "flask: failed" in summary
    assert page.count("<svg ") == 4, "throughput, latency, CPU and memory (no user sweep, no history)"
    assert "<script" not in page
    assert re.findall(r'(?<!xmlns=")(?<!xmlns:xlink=")https?://', page) == [], (
        "only SVG namespaces name a URL"
    )
    markdown = files.markdown.read_text(encoding="utf-8")
    assert "| | django | fastapi | flask |" in markdown
    with files.csv.open(encoding="utf-8") as handle:
        summary = list(csv.DictReader(handle))
    assert tuple(summary[0]) == SUMMARY_COLUMNS
    assert len(summary) == 3 * 6 - 1
    flask_io = next(line for line in summary if line[c.APP] == "flask" and line[c.SCENARIO] == "io")
    assert flask_io[a.STATUS] == a.STATUS_ERROR and flask_io[a.median_of(c.RPS)] == ""


def test_every_figure_traces_to_results_jsonl(tmp_path: Path, apps_dir: Path) -> None:
    rows = synthetic_rows(scenarios=("json",), trials=3)
    run_dir = write_run(tmp_path / "reports" / "run", rows)
    content = build_content(run_dir, apps_dir=apps_dir)
    record = content.cells[(content.cells[c.APP] == "flask")].iloc[0]
    flask_rps = sorted(row.rps for row in rows if row.app == "flask")
    assert record[a.median_of(c.RPS)] == pytest.approx(flask_rps[1])
    for value in flask_rps:
        assert f"{value:.1f}" in record[a.TRIAL_RPS]


def test_report_of_single_trials_and_without_metadata(tmp_path: Path, apps_dir: Path) -> None:
    run_dir = write_run(tmp_path / "reports" / "run", synthetic_rows(trials=1), metadata=None)
    page = html.unescape(write_report(run_dir, apps_dir=apps_dir).html.read_text(encoding="utf-8"))
    assert "every cell has at most one valid trial" in page
    assert "missing: machine and versions unknown" in page


def test_report_of_a_run_where_everything_failed(tmp_path: Path, apps_dir: Path) -> None:
    rows = synthetic_rows(scenarios=("json", "db"))
    for app in ("fastapi", "flask", "django"):
        for scenario in ("json", "db"):
            rows = flag(rows, app=app, scenario=scenario, error="server did not start", rps=0.0)
    run_dir = write_run(tmp_path / "reports" / "run", rows)
    page = html.unescape(write_report(run_dir, apps_dir=apps_dir).html.read_text(encoding="utf-8"))
    assert "No ranking" in page
    assert "No chart: no cell has a valid figure." in page
    assert "6 of 6 cells are flagged" in page


def test_history_and_contract_come_from_the_runs_folder(tmp_path: Path, apps_dir: Path) -> None:
    reports = tmp_path / "reports"
    older = {"started_at": "2024-12-01T00:00:00+00:00"}
    newer = {"started_at": "2025-02-01T00:00:00+00:00"}
    write_run(reports / "a-older", synthetic_rows(scenarios=("json",), seed=1), metadata=older)
    run_dir = write_run(reports / "b-current", synthetic_rows(scenarios=("json",), seed=2))
    write_run(reports / "c-newer", synthetic_rows(scenarios=("json",), seed=3), metadata=newer)
    contract = {
        "format": 1,
        "apps": {"flask": {"sqlite": {"commit": "x", "rows": {"performance": {"passed": 4}}}}},
    }
    (reports / "contract.json").write_text(json.dumps(contract))
    content = build_content(run_dir, apps_dir=apps_dir)
    (history,) = [chart for chart in content.charts if chart.name == "history"]
    assert "a-older" in history.svg and "b-current" in history.svg and "c-newer" not in history.svg
    performance = next(cells for spec, cells in content.table.rows if spec.key == "performance")
    assert performance["flask"].contract == "contract: 4 tests passed (sqlite)"


def test_cli_report_writes_the_files_and_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = write_run(tmp_path / "reports" / "run", synthetic_rows(apps=("flask",), scenarios=("json",)))
    assert main(["report", str(run_dir)]) == EXIT_OK
    assert (run_dir / "index.html").is_file() and (run_dir / "summary.csv").is_file()
    assert main(["report", str(tmp_path / "absent")]) == EXIT_USAGE  # a run that is not there: unusable input
    assert "no run folder" in capsys.readouterr().err


def test_two_databases_and_variants_report_postgres_first_and_say_what_each_runs(
    tmp_path: Path, apps_dir: Path
) -> None:
    from dataclasses import replace

    toml = apps_dir / "flask_app" / "app.toml"
    text = toml.read_text(encoding="utf-8").replace(
        "[features]",
        '[servers.gevent]\ncommand = ["{python}", "-c", "pass"]\nconcurrent = true\nserver = "gunicorn"\n'
        'worker_model = "gevent greenlets"\norm = "Flask-SQLAlchemy"\n'
        'drivers = { sqlite = "sqlite3", postgres = "psycopg" }\nnote = "greenlets cooperate on I/O"\n\n'
        '[labels]\ndb = "Flask + an ORM kit"\n\n[features]',
    )
    toml.write_text(text, encoding="utf-8")
    base = synthetic_rows(scenarios=("db", "io"))
    rows = [replace(row, db="postgres") for row in base] + [
        replace(row, db="sqlite", rps=row.rps * 2) for row in base if row.scenario == "db"
    ]
    # Flask's gevent variant: slower on db, far ahead on io (the threaded default is capped there).
    rows += [
        replace(row, server="gevent", rps=row.rps * (0.9 if row.scenario == "db" else 10))
        for row in rows
        if row.app == "flask" and row.db == "postgres"
    ]
    run_dir = write_run(tmp_path / "reports" / "two-dbs", rows)

    content = build_content(run_dir, apps_dir=apps_dir)

    assert tuple(content.databases) == ("postgres", "sqlite")
    assert set(content.other_standings) == {"sqlite"} and set(content.other_standings["sqlite"]) == {"db"}
    flask_figures = [
        figure for spec, cells in content.table.rows for figure in cells["flask"].figures if "req/s" in figure
    ]
    assert any(figure.startswith("io (gevent, postgres)") for figure in flask_figures), flask_figures
    roles = {(line.app, line.server): line for line in content.variants}
    assert roles[("flask", "gunicorn")].role.startswith("recommended")
    assert "io headline" in roles[("flask", "gevent")].role
    assert (
        "postgres: gunicorn, gevent greenlets, Flask-SQLAlchemy, psycopg" in roles[("flask", "gevent")].runs
    )
    names = [chart.name for chart in content.charts]
    assert names.index("throughput-postgres") < names.index("throughput-sqlite")
    page = html.unescape(write_report(run_dir, apps_dir=apps_dir).html.read_text(encoding="utf-8"))
    assert re.search(r"<strong>flask \(gunicorn\)</strong> \d+%", page), "the ranking names the variants"
    assert "The database rows on <strong>sqlite</strong>" in page and "<h2>Variants</h2>" in page
    # app.toml's labels and notes: beside the figures, the standings and the variant.
    assert roles[("flask", "gevent")].note == "greenlets cooperate on I/O"
    assert roles[("flask", "gunicorn")].note == ""
    assert content.scenario_labels == {"db": "flask: Flask + an ORM kit"}
    assert any(
        figure.startswith("db (Flask + an ORM kit; gunicorn, postgres)") for figure in flask_figures
    ), flask_figures
    assert "gevent: greenlets cooperate on I/O" in {
        figure for spec, cells in content.table.rows for figure in cells["flask"].figures
    }
    assert re.search(r"<strong>db</strong>: [^<]*\(flask: Flask \+ an ORM kit\)</li>", page), page
    assert "<small>greenlets cooperate on I/O</small>" in page


# ---- open-loop sweeps and the wrk yardstick ----------------------------------------------------------------

SWEPT = ("db", "fortunes", "api")
YARDSTICK = ("db", "fortunes")  # the GET scenarios: api writes


def sweep_metadata(**profile: object) -> dict[str, object]:
    metadata = copy.deepcopy(METADATA)
    metadata["settings"]["profile"] = {**metadata["settings"]["profile"], **PROFILE, **profile}
    return metadata


def write_sweep_run(run_dir: Path, *, rows: list[ResultRow] | None = None, **profile: object) -> Path:
    """Write a run of four scenarios, three of them swept, two of those measured by wrk too (at 80%)."""
    if rows is None:
        rows = with_sweeps(synthetic_rows(scenarios=("json", *SWEPT)), scenarios=SWEPT)
        rows = [
            replace(row, wrk_rps=row.rps / 0.8, wrk_p99_ms=4.0) if row.scenario in YARDSTICK else row
            for row in rows
        ]
    return write_run(run_dir, rows, metadata=sweep_metadata(**profile))


def hockey_stick_capacity(target_ms: float) -> float:
    """Return the share of its peak where synthetic_sweep's hockey stick (2 ms unloaded) crosses target_ms."""
    shares, p99s = SHARES, [hockey_stick(2.0)(share) for share in SHARES]
    over = next(index for index, p99 in enumerate(p99s) if p99 > target_ms)
    part = (math.log(target_ms) - math.log(p99s[over - 1])) / (
        math.log(p99s[over]) - math.log(p99s[over - 1])
    )
    return shares[over - 1] + part * (shares[over] - shares[over - 1])


def median_rps(rows: list[ResultRow], app: str, scenario: str) -> float:
    return statistics.median(row.rps for row in rows if row.app == app and row.scenario == scenario)


def section_of(page: str) -> str:
    start = page.index('<section id="latency">')
    return page[start : page.index("</section>", start)]


def test_a_run_with_sweeps_has_the_open_loop_section_chart_and_tables(tmp_path: Path, apps_dir: Path) -> None:
    run_dir = write_sweep_run(tmp_path / "reports" / "sweep")
    rows = synthetic_rows(scenarios=("json", *SWEPT))

    files = write_report(run_dir, apps_dir=apps_dir)

    page = files.html.read_text(encoding="utf-8")
    text = html.unescape(page)
    section = html.unescape(section_of(page))
    assert "<h2>Latency under open-loop load</h2>" in section
    assert "planned" in section and "understate the tail" in section, "how to read it"
    assert "offered 25%, 50%, 75%, 90%, 100%, 125% of the cell's own closed-loop rate, 2 s each" in section
    assert "db</strong> on sqlite: p99 ≤ 20.0 ms: 10 × 2 ms, the median over the apps" in section
    assert section.count("<svg ") == 3 and page.count("<svg ") == 4 + 3, "one chart per swept scenario"
    assert 'id="chart-open-loop-db-sqlite"' in page
    assert "capacity at target req/s" in section and "Locust / wrk" in section
    flask_db = format_rate(hockey_stick_capacity(20.0) * median_rps(rows, "flask", "db"))
    assert re.search(rf"<td class=\"number\">{flask_db} \[[\d,]+–[\d,]+\]</td>", section), flask_db
    assert "<strong>db on sqlite</strong>: fastapi > flask > django" in section, "the ties, per scenario"
    assert section.count('<td class="number">0.80</td>') == 6, "Locust / wrk of each GET cell"
    assert "wrk did not run for api" in section
    assert 'href="#latency"' in text, "the summary points to the section"
    performance = text[text.index('<th scope="row">Performance') :]
    expected = f"capacity at p99 ≤ 20.0 ms: db {flask_db} req/s, fortunes "
    assert expected in performance[: performance.index("</tr>")]
    assert expected in files.markdown.read_text(encoding="utf-8")
    with files.csv.open(encoding="utf-8") as handle:
        summary = list(csv.DictReader(handle))
    assert tuple(summary[0])[: len(SUMMARY_COLUMNS)] == SUMMARY_COLUMNS, "the existing columns first"
    assert tuple(summary[0])[len(SUMMARY_COLUMNS) :] == (
        *SWEEP_SUMMARY_COLUMNS,
        WRK_RPS_MEDIAN,
        LOCUST_TO_WRK,
    )
    by_cell = {(line[c.APP], line[c.SCENARIO]): line for line in summary}
    assert format_rate(float(by_cell["flask", "db"][CAPACITY_MEDIAN])) == flask_db
    assert by_cell["flask", "json"][CAPACITY_MEDIAN] == "", "no sweep, no capacity"
    assert float(by_cell["flask", "db"][LOCUST_TO_WRK]) == pytest.approx(0.8)


def test_a_run_without_a_sweep_has_no_open_loop_section_and_no_new_column(
    tmp_path: Path, apps_dir: Path
) -> None:
    run_dir = write_run(tmp_path / "reports" / "plain", synthetic_rows(scenarios=("json", "db")))
    content = build_content(run_dir, apps_dir=apps_dir)
    assert content.latency is None and content.open_loop is not None and content.open_loop.empty
    page = render_html(content)
    assert 'id="latency"' not in page and "open-loop" not in page.lower() and "wrk" not in page
    figures = [
        figure for _, cells in content.table.rows for cell in cells.values() for figure in cell.figures
    ]
    assert not any("capacity" in figure for figure in figures)
    summary = summary_frame(content.cells, content.open_loop)
    assert tuple(summary.columns) == SUMMARY_COLUMNS


def test_the_target_comes_from_slo_ms_given_to_the_report_else_from_the_profile(
    tmp_path: Path, apps_dir: Path
) -> None:
    run_dir = write_sweep_run(tmp_path / "reports" / "sweep", slo_ms=30.0)

    content = build_content(run_dir, apps_dir=apps_dir)
    assert content.latency is not None
    assert content.latency.fixed_target == "30 ms, the profile's slo_ms"
    assert all(target.startswith("p99 ≤ 30.0 ms") for _, _, target in content.latency.targets)

    assert main(["report", "--slo-ms", "12", str(run_dir)]) == EXIT_OK
    page = html.unescape((run_dir / "index.html").read_text(encoding="utf-8"))
    assert "one fixed p99, 12 ms, given with --slo-ms" in page
    assert "capacity at p99 ≤ 12.0 ms: db " in (run_dir / "comparison.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf"])
def test_slo_ms_must_be_above_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    run_dir = write_sweep_run(tmp_path / "reports" / "sweep")
    assert main(["report", f"--slo-ms={value}", str(run_dir)]) == EXIT_USAGE
    assert "--slo-ms must be a number of milliseconds above 0" in capsys.readouterr().err
    assert not (run_dir / "index.html").exists(), "nothing is written"


def test_a_generator_that_fell_behind_marks_the_capacity_and_warns(tmp_path: Path, apps_dir: Path) -> None:
    rows = with_sweeps(synthetic_rows(apps=("flask", "django"), scenarios=("db",)))
    # django's generator fell behind in the step its capacity was decided on, in every trial.
    rows = [
        with_sweep(
            row,
            sweep(peak=row.rps, p99s=[hockey_stick(2.0)(s) for s in SHARES], changes={0.9: {"behind": True}}),
        )
        if row.app == "django"
        else row
        for row in rows
    ]
    run_dir = write_sweep_run(tmp_path / "reports" / "behind", rows=rows)

    content = build_content(run_dir, apps_dir=apps_dir)

    assert content.latency is not None
    django = next(line for line in content.latency.capacity if line.app == "django")
    assert (
        django.behind
        and django.capacity.startswith("≥ ")
        and "fell behind in 3 of 3 trials" in django.capacity
    )
    assert django.ties == "the load generator fell behind its schedule (a lower bound)"
    (warning,) = [w for w in content.warnings if w.kind == GENERATOR_BEHIND]
    assert warning.app == "django" and "trial 0: 90%" in warning.message
    page = html.unescape(render_html(content))
    assert "load generator fell behind" in page[page.index('id="warnings"') :]
    assert '<tr class="status-generator_bound"><td>django</td>' in page


def test_a_run_with_wrk_and_no_sweep_shows_only_the_yardstick(tmp_path: Path, apps_dir: Path) -> None:
    rows = [replace(row, wrk_rps=row.rps * 2) for row in synthetic_rows(scenarios=("db",))]
    run_dir = write_sweep_run(tmp_path / "reports" / "wrk-only", rows=rows, sweep=[])

    page = html.unescape(write_report(run_dir, apps_dir=apps_dir).html.read_text(encoding="utf-8"))

    section = section_of(page)
    assert "<h2>The wrk yardstick</h2>" in section and "Locust / wrk" in section
    assert "Capacity at the latency target" not in section and "<svg " not in section
    assert 'href="#latency"' not in page, "no capacity to point the summary to"


def test_every_cell_shows_the_databases_cpu_beside_the_apps(tmp_path: Path, apps_dir: Path) -> None:
    rows = [
        replace(row, db="postgres", cpu_ms_per_request=0.5, db_cpu_ms_per_request=0.25)
        if row.scenario == "db"
        else row
        for row in synthetic_rows(apps=("flask",), scenarios=("json", "db"))
    ]
    files = write_report(write_run(tmp_path / "reports" / "run", rows), apps_dir=apps_dir)
    text = html.unescape(files.html.read_text(encoding="utf-8"))
    cells_table = text[text.index('id="cells"') :]
    assert "<th>DB CPU ms/req</th>" in cells_table and "<th>app + DB ms/req</th>" in cells_table
    with files.csv.open(encoding="utf-8") as handle:
        summary = {line[c.SCENARIO]: line for line in csv.DictReader(handle)}
    assert float(summary["db"][a.median_of(c.DB_CPU_MS_PER_REQUEST)]) == pytest.approx(0.25)
    assert float(summary["db"][a.median_of(a.APP_DB_CPU_MS_PER_REQUEST)]) == pytest.approx(0.75)
    assert summary["json"][a.median_of(c.DB_CPU_MS_PER_REQUEST)] == "", "SQLite: no database server"
    db_line = next(line for line in cells_table.split("<tr>") if "<td>db</td>" in line)
    assert ">0.50</td>" in db_line and ">0.25</td>" in db_line and ">0.75</td>" in db_line

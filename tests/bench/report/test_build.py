"""bench/report/build.py, bench/report/html.py and `python -m bench report`: the files of a report, built
from a saved synthetic run, and clear errors when there is no run to report."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest

from bench import columns as c
from bench.cli import main
from bench.errors import EXIT_OK, EXIT_USAGE, RunNotFoundError
from bench.report import aggregate as a
from bench.report.build import SUMMARY_COLUMNS, build_content, write_report
from bench.results import RESULTS_FILE
from tests.bench.synthetic_run import flag, synthetic_rows, write_apps, write_run


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
    assert "What this run can tell apart:" in summary
    assert "Startup and memory" in text and "s to first 200" in text
    assert "Not in the score: io" in summary, "io measures concurrency, not the cost per request"
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
        'drivers = { sqlite = "sqlite3", postgres = "psycopg" }\n\n[features]',
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
    assert any(figure.startswith("db (gunicorn, postgres)") for figure in flask_figures), flask_figures
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

"""bench/cli.py: the `run` and `ui` commands from the outside."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from bench.cli import build_parser, main
from bench.config import ROOT, discover_apps
from bench.errors import EXIT_OK
from bench.processes import free_port
from bench.report import community
from bench.report.community import PackageFacts
from tests.bench.synthetic_run import synthetic_rows, write_run


def test_run_options_reach_the_profile() -> None:
    args = build_parser().parse_args(
        ["run", "--profile", "quick", "--apps", "fastapi,flask", "--users", "8,32", "--duration", "2.5"]
    )
    assert (args.profile, args.apps, args.users, args.duration) == (
        "quick",
        ["fastapi", "flask"],
        [8, 32],
        2.5,
    )


def test_master_needs_the_number_of_workers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--master"]) == 2
    assert "--locust-workers" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], ["server CPUs    0", "database CPUs  0 (", "load CPUs      1 (Locust: 1 process)"]),
        (["--db-cpus", "1"], ["database CPUs  1 (", "shared         database and Locust share CPU 1"]),
        (
            ["--cpus", "0-7"],
            [
                "server CPUs    0",
                "database CPUs  1 (",
                "load CPUs      2-7 (Locust: a master and 6 local workers)",
            ],
        ),
    ],
)
def test_a_dry_run_prints_the_layout_and_the_cells(
    options: list[str],
    expected: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench.run import layout

    # A machine of 2 CPUs, each a core of its own, whatever the test runs on.
    monkeypatch.setattr(layout.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(layout, "cores_of", lambda cpus: [[cpu] for cpu in cpus])
    out = tmp_path / "reports"
    command = ["run", "--dry-run", "--profile", "quick", "--apps", "flask,django", "--scenarios", "json,db"]
    assert (
        main([*command, "--trials", "2", "--db", "postgres,sqlite", "--out", str(out), *options]) == EXIT_OK
    )
    printed = capsys.readouterr().out.splitlines()
    for line in expected:
        assert any(printed_line.startswith(line) for printed_line in printed), (line, printed)
    assert "cells          12, in shuffled order" in printed  # json on one database, db on two
    assert "  db u=32 sqlite: 4 cells, 2 trial(s) of django/gunicorn, flask/gunicorn" in printed
    assert not out.exists(), "a dry run writes no run directory"


def test_a_versions_dry_run_lists_environments_and_cells_and_builds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench.run.environments import pythons
    from bench.run.environments.plan import Interpreter

    found = [Interpreter("3.11", "/py/3.11", "3.11.7"), Interpreter("3.12", "/py/3.12", "3.12.1")]
    monkeypatch.setattr(pythons, "find_pythons", lambda: found)
    monkeypatch.setenv("BENCH_ENV_CACHE", str(tmp_path / "envs"))
    out = tmp_path / "reports"
    assert (
        main(["run", "--dry-run", "--profile", "versions", "--apps", "django", "--out", str(out)]) == EXIT_OK
    )
    printed = capsys.readouterr().out.splitlines()
    assert "pythons        3.11, 3.12; releases on 3.12" in printed
    assert "not found      Python 3.13" not in printed  # "all": only what was found
    assert any(line.startswith("  django 4.2 py3.12") and "django==4.2.*" in line for line in printed)
    assert any(line.startswith("  django 6.1 py3.11") for line in printed)  # listed; uv will say it conflicts
    assert "cells          84, in one shuffled schedule (before any incompatible one is dropped)" in printed
    assert not (tmp_path / "envs").exists() and not out.exists(), "a dry run builds and writes nothing"


def test_an_unknown_profile_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--profile", "nope"]) == 2
    assert "no profile 'nope'" in capsys.readouterr().err


def test_an_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--scenarios", "plaintext,nope"]) == 2
    assert "nope" in capsys.readouterr().err


@pytest.mark.slow
def test_run_against_a_target(tmp_path: Path) -> None:
    """--target measures an app that runs elsewhere (here: a stand-in started by the test) as it is."""
    database = tmp_path / "db.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": str(ROOT)}
    fake_app = [sys.executable, str(Path(__file__).parents[1] / "fake_app.py")]
    subprocess.run([*fake_app, "setup"], env=env, check=True, timeout=60)
    port = free_port()
    with subprocess.Popen([*fake_app, "serve", "--port", str(port)], env=env) as server:
        try:
            for _ in range(100):
                if server.poll() is None and _answers(f"http://127.0.0.1:{port}/health"):
                    break
                time.sleep(0.1)
            code = main(
                [
                    "run", "--target", f"http://127.0.0.1:{port}", "--apps", "elsewhere",
                    "--scenarios", "json",
                    "--users", "2", "--warmup", "0.3", "--duration", "1", "--trials", "1",
                    "--min-requests", "20",
                    "--out", str(tmp_path / "reports"), "--quiet",
                ]
            )  # fmt: skip
        finally:
            server.terminate()
    assert code == 0
    (row,) = [
        json.loads(line) for line in (tmp_path / "reports/latest/results.jsonl").read_text().splitlines()
    ]
    assert (row["app"], row["server"], row["error"]) == ("elsewhere", "external", "")
    assert row["requests"] >= 20
    assert row["cpu_ms_per_request"] is None  # the server's CPU is not ours to measure


def _ui_stats_of(name: str, *, web_port: int, at_least: int) -> dict[str, Any]:
    """Return the web UI's statistics of one request name once it counts at_least requests (or after 90 s)."""
    deadline = time.monotonic() + 90
    while True:
        stats = httpx.get(f"http://127.0.0.1:{web_port}/stats/requests").json()
        entry: dict[str, Any] = next((e for e in stats["stats"] if e["name"] == name), {"num_requests": 0})
        if entry["num_requests"] >= at_least or time.monotonic() > deadline:
            return entry
        time.sleep(0.3)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_for_ui(ui: subprocess.Popen[bytes], web_port: int, timeout_s: float = 90) -> None:
    """Return once bench ui's Locust web UI answers on web_port (or the timeout passed); fail if ui exits."""
    deadline = time.monotonic() + timeout_s
    while not _answers(f"http://127.0.0.1:{web_port}/") and time.monotonic() < deadline:
        assert ui.poll() is None, "bench ui exited"
        time.sleep(0.3)


@pytest.mark.slow
@pytest.mark.skipif("fastapi" not in discover_apps(), reason="the FastAPI app is not there")
def test_ui_serves_locusts_web_ui_until_interrupted() -> None:
    web_port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench",
        "ui",
        "--app",
        "fastapi",
        "--scenario",
        "json",
        "--web-port",
        str(web_port),
    ]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as ui:
        try:
            _wait_for_ui(ui, web_port)
            children = psutil.Process(ui.pid).children(recursive=True)
            swarm = httpx.post(f"http://127.0.0.1:{web_port}/swarm", data={"user_count": 1, "spawn_rate": 1})
            assert swarm.json()["success"]
            json_stats = _ui_stats_of("/json", web_port=web_port, at_least=5)
            assert json_stats["num_requests"] >= 5 and json_stats["num_failures"] == 0
            ui.send_signal(signal.SIGINT)
            assert ui.wait(timeout=60) != 0
            _, alive = psutil.wait_procs(children, timeout=10)
            assert alive == []
        finally:
            ui.kill()


@pytest.mark.parametrize(
    "command",
    [
        ["run"],
        ["report"],
        ["serve", "--app", "flask"],
        ["ui", "--app", "flask"],
        ["check"],
        ["baseline", "save"],
        ["baseline", "show", "some-file"],
        ["gate-rates", "some-run"],
        ["repeatability", "some-run"],
    ],
    ids=" ".join,
)
def test_a_mistyped_option_is_an_error_naming_it(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([*command, "--trails=5"])
    assert stopped.value.code == 2
    assert "unrecognized arguments: --trails=5" in capsys.readouterr().err


def test_errors_into_a_pipe_are_never_wrapped(tmp_path: Path) -> None:
    missing = tmp_path / ("a-folder-name-long-enough-to-pass-any-terminal-width-" * 3) / "no-such-run"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "report", str(missing)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "40"},
    )
    assert result.returncode == 2, result.stderr  # a run that is not there: unusable input
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert str(missing) in line
    assert "(or `python -m bench run`)" in line


def test_report_refresh_community_stores_what_pypi_answered_and_not_fetched_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = write_run(tmp_path / "reports" / "run", synthetic_rows(apps=("flask",), scenarios=("json",)))

    def community_row() -> str:
        return (run_dir / "comparison.md").read_text(encoding="utf-8").splitlines()[-1]

    def offline(url: str, **options: Any) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution")

    # The real fetch, without a network: a failed fetch is "not fetched" in the table, not an error.
    monkeypatch.setattr(community.httpx, "get", offline)
    assert main(["report", "--refresh-community", str(run_dir)]) == EXIT_OK
    assert "not fetched: flask" in capsys.readouterr().err
    stored = json.loads((run_dir / "community.json").read_text(encoding="utf-8"))
    assert stored["packages"]["flask"]["facts"] is None
    assert stored["packages"]["flask"]["source"] == "https://pypi.org/pypi/flask/json"
    assert "not fetched<br>PyPI did not answer on " in community_row()

    facts = PackageFacts(
        name="Flask",
        first_version="0.1",
        first_release=date(2010, 4, 16),
        latest_version="3.1.3",
        latest_release=date(2026, 2, 19),
        releases_last_12_months=1,
        as_of=datetime.now(UTC).date(),
        python_versions=(),
        requires_python=">=3.9",
    )
    asked: list[str] = []

    def answered(name: str) -> PackageFacts:
        asked.append(name)
        return facts

    monkeypatch.setattr(community, "fetch_package_facts", answered)
    assert main(["report", "--refresh-community", str(run_dir)]) == EXIT_OK
    assert asked == ["flask"], "the framework of each app in the run, from its app.toml"
    assert "requires_python >=3.9 (no Python 3.x classifiers)" in community_row()

    # Without the flag the report reads community.json again and fetches nothing.
    monkeypatch.setattr(community, "fetch_package_facts", lambda name: pytest.fail("fetched"))
    (run_dir / "comparison.md").unlink()
    assert main(["report", str(run_dir)]) == EXIT_OK
    assert (
        "latest release flask 3.1.3 (2026-02-19)<br>first release on PyPI 0.1 (2010-04-16)" in community_row()
    )


@pytest.mark.slow
def test_a_killed_ui_leaves_no_process_behind() -> None:
    # SIGKILL gives `bench ui` no chance to clean up: its children must go by themselves (the parent-death
    # signal).
    web_port = free_port()
    command = [sys.executable, "-m", "bench", "ui", "--app", "flask", "--scenario", "json"]
    with subprocess.Popen(
        [*command, "--web-port", str(web_port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as ui:
        try:
            _wait_for_ui(ui, web_port)
            children = psutil.Process(ui.pid).children(recursive=True)
            assert children, "bench ui started no process"
        finally:
            ui.kill()
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], f"left behind: {[' '.join(p.cmdline()) for p in alive]}"

"""bench/run/runner.py: the rows, and real runs against a stand-in app, faults included."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from bench.config import ROOT
from bench.processes import free_port
from bench.results import (
    LATEST_LINK,
    METADATA_FILE,
    RECOVERY_PHASE,
    RESULTS_FILE,
    SWEEP_PHASE,
    UNLOADED_PHASE,
    WARMUP_PHASE,
    ResultRow,
    read_metadata,
    read_rows,
)
from bench.run import layout
from bench.run.loadgen.sweep import MIN_OPEN_USERS, MIN_RATE_RPS
from bench.run.measure import CellMeasurement
from bench.run.profiles import Profile
from bench.run.runner import CellRunner, RunSettings, default_cpu_split, row_from_measurement, run_benchmark
from bench.run.schedule import Cell
from bench.run.usage import TreeUsage
from bench.run.yardstick import ensure_wrk
from bench.scenarios import ScenarioInfo

FAKE_APP = Path(__file__).parents[1] / "fake_app.py"
# Windows end after a count of requests, not a time: no check here depends on how fast the machine is.
MIN_REQUESTS = 20
# The dying stand-in answers this many requests, then exits: within the warm-up or the window of its cell.
DYING_AFTER_REQUESTS = 200
# The stalling stand-in holds every request that arrives in the first STALL_MS of each second.
STALL_MS = 200


def test_default_cpu_split(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each CPU a core of its own, whatever this machine's kernel shows.
    monkeypatch.setattr(layout, "cores_of", lambda cpus: [[cpu] for cpu in cpus])
    assert default_cpu_split([0, 1]) == ({0}, {1})
    assert default_cpu_split([0, 1, 2, 3]) == ({0, 1}, {2, 3}), "server and database, then Locust"
    assert default_cpu_split([3]) == ({3}, {3})


# --- a row from its measurements (pure) ---------------------------------------------------------------------


def measured(*, server_cpu_s: float, generator_cpu_s: float, requests: int = 10_000) -> CellMeasurement:
    return CellMeasurement(
        summary={
            "window_s": 5.0,
            "requests": requests,
            "failures": 0,
            "latency_ms": {"p50": 1.0, "p90": 2.0, "p99": 3.0, "p999": 4.0, "max": 5.0, "mean": 1.2},
        },
        wall_s=5.0,
        server=TreeUsage(
            cpu_s=server_cpu_s,
            user_s=0.75 * server_cpu_s,
            system_s=0.25 * server_cpu_s,
            peak_rss_mb=80.0,
            pss_mb=60.0,
            processes=2,
        ),
        generator=TreeUsage(cpu_s=generator_cpu_s, peak_rss_mb=50.0, processes=1),
        server_cpus_busy=server_cpu_s / 5.0,
        load_cpus_busy=generator_cpu_s / 5.0,
    )


def fill(measurement: CellMeasurement, **layout: int) -> ResultRow:
    row = ResultRow(app="a", server="s", scenario="plaintext", users=32, trial=1)
    sizes = {"workers": 1, "server_cpus": 1, "generator_processes": 1, "load_cpus": 1} | layout
    row_from_measurement(row, measurement, **sizes)
    return row


def test_row_figures() -> None:
    row = fill(measured(server_cpu_s=4.0, generator_cpu_s=2.0))
    assert row.rps == pytest.approx(2000)
    assert row.cpu_ms_per_request == pytest.approx(0.4)
    assert row.server_cpu_util == pytest.approx(0.8)
    assert (row.server_user_s, row.server_system_s) == pytest.approx((3.0, 1.0))
    assert row.generator_cpu_util == pytest.approx(0.4)
    assert (row.latency_p50_ms, row.latency_p999_ms, row.latency_max_ms) == (1.0, 4.0, 5.0)
    assert (row.server_rss_mb, row.server_pss_mb, row.server_processes) == (80.0, 60.0, 2)
    assert not row.generator_bound
    assert row.db_cpu_s is None and row.db_cpu_ms_per_request is None, "no database server sampled"


def test_the_database_cpu_per_request() -> None:
    measurement = measured(server_cpu_s=4.0, generator_cpu_s=2.0)
    measurement.database = TreeUsage(cpu_s=1.5, peak_rss_mb=300.0, processes=9)
    row = fill(measurement)
    assert row.db_cpu_s == 1.5
    assert row.db_cpu_ms_per_request == pytest.approx(0.15)
    assert row.cpu_ms_per_request == pytest.approx(0.4), "the app's own figure is unchanged"
    measurement.summary["requests"] = 0
    assert fill(measurement).db_cpu_ms_per_request is None


def test_a_busy_generator_and_an_idle_server_make_the_row_generator_bound() -> None:
    assert fill(measured(server_cpu_s=3.0, generator_cpu_s=4.9)).generator_bound
    assert not fill(measured(server_cpu_s=4.9, generator_cpu_s=4.9)).generator_bound


def test_the_generators_capacity_counts_its_processes() -> None:
    # Two Locust processes on two CPUs at one core's worth in all: half their capacity.
    row = fill(measured(server_cpu_s=1.0, generator_cpu_s=5.0), generator_processes=2, load_cpus=2)
    assert row.generator_cpu_util == pytest.approx(0.5)
    assert not row.generator_bound


@pytest.mark.parametrize(
    ("refused", "error"), [(500, ""), (300, "request mix off its stated shares: /a [404] 30.0%")]
)
def test_a_cell_is_judged_on_its_scenario_s_stated_shares(tmp_path: Path, refused: int, error: str) -> None:
    info = ScenarioInfo(
        name="stated",
        module="bench.scenarios.stated",
        path=tmp_path / "stated.py",
        table_row="validation",
        writes=False,
        description="Half of the requests are refused.",
        failure_shares=(("/a [404]", 0.5),),
    )
    runner = CellRunner(
        RunSettings(profile=Profile(name="t")),
        scenarios={info.name: info},
        pools={},
        workdir=tmp_path,
        logs_dir=tmp_path,
    )
    cell = Cell(app="fake", server="default", scenario=info.name, users=1, trial=0)
    counts = {"GET /a [404]": refused, "GET /b": 1000 - refused}
    measurement = CellMeasurement(summary={"requests": 1000, "requests_by_name": counts}, wall_s=1.0)
    row = ResultRow(app="fake", server="default", scenario=info.name, users=1, trial=0)
    row_from_measurement(row, measurement, workers=1, server_cpus=1, generator_processes=1, load_cpus=1)
    runner._judge_row(row, cell, info=info, measurement=measurement)
    runner.close()
    assert row.error.startswith(error) and bool(row.error) == bool(error)


def test_a_sweep_gives_the_row_its_steps_unloaded_latency_and_generator_flag() -> None:
    measurement = measured(server_cpu_s=4.9, generator_cpu_s=2.0)
    steps = [
        {"phase": WARMUP_PHASE, "p50_ms": 9.0, "generator_behind": True},  # the warm-up does not count
        {"phase": UNLOADED_PHASE, "p50_ms": 0.8, "generator_behind": False},
        {"phase": SWEEP_PHASE, "p50_ms": 1.2, "generator_behind": False},
    ]
    measurement.summary |= {"sweep": steps, "open_users": 64}
    row = fill(measurement)
    assert (row.unloaded_p50_ms, row.open_users, row.generator_behind) == (0.8, 64, False)
    assert row.sweep == steps
    steps[2]["generator_behind"] = True
    assert fill(measurement).generator_behind
    assert fill(measured(server_cpu_s=4.9, generator_cpu_s=2.0)).sweep == []


# --- real runs against stand-in apps ------------------------------------------------------------------------


def write_fake_app(apps_dir: Path, name: str, *serve_options: str) -> None:
    folder = apps_dir / f"{name}_app"
    folder.mkdir(parents=True)
    python, script = "{python}", str(FAKE_APP)
    serve = [python, script, "serve", "--host", "{host}", "--port", "{port}", *serve_options]
    (folder / "app.toml").write_text(
        f'name = "{name}"\nframework = "{name}"\nadmin_list_url = "/admin/"\ndefault_server = "stdlib"\n'
        f"setup = {json.dumps([python, script, 'setup'])}\n"
        f"[servers.stdlib]\ncommand = {json.dumps(serve)}\n"
    )


@pytest.fixture
def apps_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "apps"
    write_fake_app(directory, "fake")
    write_fake_app(directory, "broken", "--refuse-to-start")
    write_fake_app(directory, "dying", "--die-after-requests", str(DYING_AFTER_REQUESTS))
    write_fake_app(directory, "stalling", "--stall-ms", str(STALL_MS))
    return directory


def run(
    apps_dir: Path,
    tmp_path: Path,
    *,
    apps: tuple[str, ...],
    settings: dict[str, Any] | None = None,
    **profile: Any,
) -> tuple[Path, list[dict[str, Any]]]:
    fields: dict[str, Any] = {
        "users": (4,),
        "warmup_s": 0.5,
        "duration_s": 1.0,
        "trials": 1,
        "seed": 7,
        "min_requests": MIN_REQUESTS,
    }
    run_settings = RunSettings(
        profile=Profile(name="test", apps=apps, **(fields | profile)),
        apps_dir=apps_dir,
        reports_dir=tmp_path / "reports",
        pin_runner=False,
        **(settings or {}),
    )
    run_dir = run_benchmark(run_settings)
    return run_dir, list(read_rows(run_dir / RESULTS_FILE))


@pytest.mark.slow
def test_a_short_real_run(apps_dir: Path, tmp_path: Path) -> None:
    run_dir, rows = run(apps_dir, tmp_path, apps=("fake",), scenarios=("plaintext", "updates"), trials=2)
    assert len(rows) == 4
    for row in rows:
        assert row["error"] == "", row["log_tail"]
        assert row["requests"] >= MIN_REQUESTS and row["rps"] > 0
        assert row["latency_p50_ms"] <= row["latency_p99_ms"] <= row["latency_max_ms"]
        assert row["server_cpu_s"] > 0 and row["cpu_ms_per_request"] > 0
        assert row["server_rss_mb"] > 0
        assert row["generator_cpu_util"] > 0
        assert row["startup_s"] > 0 and row["first_request_ms"] > 0, "how its server started"
        assert row["db_cpu_ms_per_request"] is None, "SQLite: no database server"
    assert {row["data_check"] for row in rows if row["scenario"] == "updates"} == {
        "ok; no Item table found by its columns"
    }
    metadata = read_metadata(run_dir / METADATA_FILE)
    assert metadata["status"] == "complete"
    assert metadata["packages"]["locust"]
    assert metadata["settings"]["cells"] == 4
    assert metadata["settings"]["db_cpus"] == metadata["settings"]["server_cpus"]
    assert metadata["machine"]["topology"]["cpus"] >= 1
    assert metadata["git"]["commit"]
    assert (tmp_path / "reports" / LATEST_LINK).resolve() == run_dir.resolve()


@pytest.mark.slow
def test_a_run_with_local_locust_workers(apps_dir: Path, tmp_path: Path) -> None:
    _, rows = run(
        apps_dir, tmp_path, apps=("fake",), scenarios=("plaintext", "updates"), settings={"locust_workers": 2}
    )
    for row in rows:
        assert row["error"] == "", row["log_tail"]
        assert row["requests"] >= MIN_REQUESTS
    assert next(row for row in rows if row["scenario"] == "updates")["data_check"].startswith("ok")


@pytest.mark.slow
def test_a_master_with_a_worker_started_apart(apps_dir: Path, tmp_path: Path) -> None:
    """`bench run --worker` in one process, `bench run --master` in another: loopback plays 2 machines."""
    port = free_port()
    worker_command = [
        sys.executable, "-m", "bench", "run", "--worker",
        "--master-host", "127.0.0.1", "--master-port", str(port),
    ]  # fmt: skip
    with subprocess.Popen(
        worker_command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as worker:
        try:
            settings = {
                "master": True,
                "locust_workers": 1,
                "master_port": port,
                "master_bind_host": "127.0.0.1",
            }
            _, rows = run(
                apps_dir,
                tmp_path,
                apps=("fake",),
                scenarios=("plaintext", "updates"),
                trials=2,
                settings=settings,
            )
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    assert len(rows) == 4
    for row in rows:
        assert row["error"] == "", row["log_tail"]
        assert row["requests"] >= MIN_REQUESTS


@pytest.mark.slow
def test_a_server_that_will_not_start_gives_an_error_row_and_the_run_goes_on(
    apps_dir: Path, tmp_path: Path
) -> None:
    _, rows = run(apps_dir, tmp_path, apps=("broken", "fake"), scenarios=("plaintext",))
    by_app = {row["app"]: row for row in rows}
    assert by_app["broken"]["error"].startswith("server failed to start")
    assert "refusing to start" in by_app["broken"]["log_tail"]
    assert by_app["fake"]["error"] == ""
    assert by_app["fake"]["requests"] >= MIN_REQUESTS


@pytest.mark.slow
def test_a_server_that_dies_mid_run_gives_an_error_row_and_the_run_goes_on(
    apps_dir: Path, tmp_path: Path
) -> None:
    _, rows = run(apps_dir, tmp_path, apps=("dying", "fake"), scenarios=("plaintext", "json"), duration_s=3.0)
    dying = [row for row in rows if row["app"] == "dying"]
    assert len(dying) == 2
    assert all("server died" in row["error"] for row in dying)  # restarted for the second cell, died again
    assert all(row["error"] == "" for row in rows if row["app"] == "fake")


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_leaves_no_process_behind(apps_dir: Path, tmp_path: Path, signum: int) -> None:
    command = [
        sys.executable, "-m", "bench", "run", "--apps-dir", str(apps_dir), "--apps", "fake",
        "--scenarios", "plaintext", "--db", "sqlite", "--users", "4", "--warmup", "0.5", "--duration", "60",
        "--trials", "1",
        "--out", str(tmp_path / "reports"), "--quiet",
    ]  # fmt: skip
    runner = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        started: list[psutil.Process] = []
        while time.monotonic() < deadline:
            started = descendants(runner.pid)
            command_lines = [" ".join(p.cmdline()) for p in started if p.is_running()]
            if any("bench.run.loadgen" in c for c in command_lines) and any(
                " serve " in c for c in command_lines
            ):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the run did not get to measuring: {command_lines}, exit code {runner.poll()}")
        server = next(p for p in started if " serve " in " ".join(p.cmdline()))
        port = int(server.cmdline()[server.cmdline().index("--port") + 1])
        time.sleep(1.0)  # inside the measured window
        runner.send_signal(signum)
        assert runner.wait(timeout=60) != 0
        _, alive = psutil.wait_procs(started, timeout=10)
        assert alive == [], f"left behind: {[' '.join(p.cmdline()) for p in alive]}"
        assert port_is_free(port)
        metadata = read_metadata(tmp_path / "reports" / LATEST_LINK / METADATA_FILE)
        assert metadata["status"] == "interrupted"
    finally:
        runner.kill()
        runner.wait()


# --- open-loop sweeps ---------------------------------------------------------------------------------------


def sweep_run(apps_dir: Path, tmp_path: Path, *, app: str) -> dict[str, Any]:
    _, rows = run(
        apps_dir,
        tmp_path,
        apps=(app,),
        scenarios=("plaintext",),
        users=(1,),
        sweep=(0.25,),
        step_s=2.0,
        warmup_s=0.5,
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["error"] == "", row["log_tail"]
    return row


@pytest.mark.slow
def test_a_sweep_follows_the_closed_loop_window(apps_dir: Path, tmp_path: Path) -> None:
    row = sweep_run(apps_dir, tmp_path, app="fake")
    phases = [step["phase"] for step in row["sweep"]]
    assert phases == [WARMUP_PHASE, UNLOADED_PHASE, SWEEP_PHASE, RECOVERY_PHASE]
    sweep = row["sweep"][2]
    assert sweep["offered_rps"] == pytest.approx(max(MIN_RATE_RPS, 0.25 * row["rps"]))
    # Every planned request was sent and answered, counted in the step that planned it.
    assert sweep["requests"] == sweep["planned"] > 0 and sweep["failures"] == 0
    assert 0 < sweep["p50_ms"] <= sweep["p99_ms"] <= sweep["max_ms"]
    assert row["unloaded_p50_ms"] == row["sweep"][1]["p50_ms"]
    assert row["open_users"] >= MIN_OPEN_USERS


@pytest.mark.slow
def test_the_apps_of_a_block_are_swept_at_the_same_rates_after_their_closed_loop_windows(
    apps_dir: Path, tmp_path: Path
) -> None:
    _, rows = run(
        apps_dir,
        tmp_path,
        apps=("fake", "stalling"),
        scenarios=("plaintext", "updates"),
        users=(1,),
        sweep=(0.25, 0.5),
        step_s=1.0,
        yardstick=True,
    )
    assert len(rows) == 4
    for row in rows:
        assert row["error"] == "", row["log_tail"]
    for scenario in ("plaintext", "updates"):
        mine = [row for row in rows if row["scenario"] == scenario]
        offered = [[step["offered_rps"] for step in row["sweep"]] for row in mine]
        assert offered[0] == offered[1], "the same rates for every app of the block"
        assert mine[0]["open_users"] == mine[1]["open_users"], "and the same connection cap"
        slowest, fastest = sorted(row["rps"] for row in mine)
        rising = [step["offered_rps"] for step in mine[0]["sweep"] if step["phase"] == SWEEP_PHASE]
        assert rising == pytest.approx([max(MIN_RATE_RPS, 0.25 * slowest), max(MIN_RATE_RPS, 0.5 * fastest)])
    # The writing scenario's data check covers both passes (closed loop, then sweep) on one server.
    assert {row["data_check"] for row in rows if row["scenario"] == "updates"} == {
        "ok; no Item table found by its columns"
    }
    wrk = ensure_wrk()
    plaintext = [row for row in rows if row["scenario"] == "plaintext"]
    if wrk.path is not None:  # measured after the closed loop, before the sweep
        assert all(row["wrk_error"] == "" and row["wrk_rps"] > 0 for row in plaintext)


@pytest.mark.slow
def test_open_loop_latency_sees_a_stall_that_closed_loop_hides(apps_dir: Path, tmp_path: Path) -> None:
    """The server pauses 200 ms once a second. One closed-loop user waits through each pause once and then
    sends its many fast requests: the pause is under 1% of its requests and out of its p99. Open-loop
    arrivals keep coming during the pause: every request planned in it waits for the rest of it, counted
    from its planned start, about a fifth of the requests, so the p99 is most of the pause."""
    row = sweep_run(apps_dir, tmp_path, app="stalling")
    closed_p99 = row["latency_p99_ms"]
    assert row["latency_max_ms"] >= STALL_MS / 2, "the closed-loop user did wait through a pause"
    open_steps = [step for step in row["sweep"] if step["phase"] in (SWEEP_PHASE, RECOVERY_PHASE)]
    for step in open_steps:
        assert step["requests"] == step["planned"] and step["failures"] == 0
        assert step["p99_ms"] >= 0.75 * STALL_MS, "the open-loop p99 is most of the pause"
        assert closed_p99 < step["p99_ms"]


@pytest.mark.slow
def test_the_yardstick_measures_get_cells_with_wrk_on_the_same_server(apps_dir: Path, tmp_path: Path) -> None:
    _, rows = run(apps_dir, tmp_path, apps=("fake",), scenarios=("plaintext", "updates"), yardstick=True)
    by_scenario = {row["scenario"]: row for row in rows}
    plaintext, updates = by_scenario["plaintext"], by_scenario["updates"]
    assert plaintext["error"] == "", plaintext["log_tail"]
    wrk = ensure_wrk()
    if wrk.path is None:  # a machine where wrk cannot be installed: the row says why
        assert plaintext["wrk_rps"] is None and plaintext["wrk_error"] == wrk.reason
    else:
        assert plaintext["wrk_error"] == "" and plaintext["wrk_rps"] > 0 and plaintext["wrk_p99_ms"] > 0
    # updates writes: it has no GET request wrk could send instead of Locust
    assert updates["wrk_rps"] is None and updates["wrk_error"] == ""

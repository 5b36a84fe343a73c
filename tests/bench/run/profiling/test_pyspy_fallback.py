"""bench/run/profiling: when py-spy cannot attach (simulated by a fake py-spy on PATH that exits with the
kernel's permission error), the run goes on without profiles, and the records say why and how to allow it."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench.results import PROFILES_FILE, ResultRow, read_profiles
from bench.run.measure import WindowHook
from bench.run.profiling.pyspy import (
    ATTACH_HINT,
    PySpyRecorder,
    attach_failure,
    failed_reads,
    find_pyspy,
    record_command,
)
from bench.run.profiling.session import ProfilingSession, profile_record, profiled_cells
from bench.run.runner import run_profiled_trials
from bench.run.schedule import Cell

PERMISSION_ERROR = "Error: Failed to open process - check if it is running.\nPermission Denied (os error 13)"


@pytest.fixture
def refusing_pyspy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put a py-spy on PATH that refuses to attach, as py-spy does without ptrace permission."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "py-spy"
    fake.write_text(f"#!/bin/sh\ncat >&2 <<'EOF'\n{PERMISSION_ERROR}\nEOF\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return fake


@dataclass
class StubProfile:
    profile_duration_s: float = 1.0


@dataclass
class StubSettings:
    variant: str = ""


@dataclass
class StubRunner:
    """Stands in for CellRunner: "measures" a cell by opening and closing its window on this process."""

    profile: StubProfile = field(default_factory=StubProfile)
    settings: StubSettings = field(default_factory=StubSettings)
    ran: list[Cell] = field(default_factory=list)

    def run(self, cell: Cell, *, hooks: list[WindowHook], duration_s: float | None = None) -> ResultRow:
        self.ran.append(cell)
        for hook in hooks:
            hook.start(os.getpid())
        for hook in hooks:
            # A real window lasts seconds: long enough for a py-spy that cannot attach to say so and exit.
            assert isinstance(hook, PySpyRecorder) and hook.process is not None
            hook.process.wait(timeout=30)
            hook.stop()
        return ResultRow(cell.app, cell.server, cell.scenario, cell.users, 0, requests=100, rps=50.0)


def test_the_fake_is_the_py_spy_found(refusing_pyspy: Path) -> None:
    assert find_pyspy() == refusing_pyspy


def test_a_refused_attach_is_recorded_with_the_hint_and_the_other_cells_are_skipped(
    refusing_pyspy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_dir, logs = tmp_path / "run", tmp_path / "logs"
    run_dir.mkdir()
    logs.mkdir()
    cells = [Cell("flask", "gunicorn", "db", 32, 1), Cell("django", "gunicorn", "db", 32, 1)]
    session = ProfilingSession(run_dir=run_dir, logs_dir=logs, rate_hz=200, native=False, cpus=())
    runner: Any = StubRunner()
    run_profiled_trials(runner, cells, session=session, started=lambda label: None)
    records = read_profiles(run_dir)
    assert [record.app for record in records] == ["flask", "django"]
    assert all(record.hint == ATTACH_HINT and not record.stacks_file for record in records)
    assert "Permission Denied" in records[0].error
    assert runner.ran == cells[:1]  # after a refusal for want of permission, no more profiled trials
    assert (run_dir / PROFILES_FILE).is_file()
    assert "CAP_SYS_PTRACE" in caplog.text  # the command says how to allow it


FLAKY_PYSPY = """#!/bin/sh
# Reads nothing the first {failures} times (as py-spy now and then does), then a profile.
count=$(cat "{counter}" 2>/dev/null || echo 0); echo $((count + 1)) > "{counter}"
while [ "$1" != "--output" ]; do shift; done
if [ "$count" -lt {failures} ]; then
  echo "py-spy> Wrote raw flamegraph data to '$2'. Samples: 0 Errors: 0" >&2; exit 0
fi
echo "main (app.py:1) 3" > "$2"
echo "py-spy> Wrote raw flamegraph data to '$2'. Samples: 3 Errors: 1" >&2
"""


def profile_with_flaky_pyspy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, failures: int
) -> tuple[Path, Any, Cell]:
    """Run one cell's profiled trials with a py-spy on PATH that reads nothing its first `failures` times;
    return the run folder, the runner and the cell."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "py-spy"
    fake.write_text(FLAKY_PYSPY.format(counter=tmp_path / "calls", failures=failures))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    run_dir, logs = tmp_path / "run", tmp_path / "logs"
    run_dir.mkdir()
    logs.mkdir()
    cell = Cell("flask", "gunicorn", "db", 32, 1)
    session = ProfilingSession(run_dir=run_dir, logs_dir=logs, rate_hz=200, native=False, cpus=())
    runner: Any = StubRunner()
    run_profiled_trials(runner, [cell], session=session, started=lambda label: None)
    return run_dir, runner, cell


def test_a_profile_that_read_nothing_is_taken_once_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    run_dir, runner, cell = profile_with_flaky_pyspy(tmp_path, monkeypatch, failures=1)
    assert runner.ran == [cell, cell]
    assert "read no stack" in caplog.text
    (record,) = read_profiles(run_dir)
    assert record.error == "" and record.stacks_file and record.failed_samples == 1


def test_a_profile_that_reads_nothing_twice_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir, runner, cell = profile_with_flaky_pyspy(tmp_path, monkeypatch, failures=2)
    assert runner.ran == [cell, cell], "two tries, no more"
    (record,) = read_profiles(run_dir)
    assert record.error == "py-spy read no stack of the server's processes (Samples: 0 Errors: 0)"
    assert not record.stacks_file


def test_without_py_spy_the_record_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("bench.run.profiling.pyspy.sys.executable", str(tmp_path / "python"))
    session = ProfilingSession(run_dir=tmp_path, logs_dir=tmp_path, rate_hz=200, native=False, cpus=())
    cell = Cell("flask", "gunicorn", "db", 32, 1)
    assert session.recorder(cell) is None
    record = session.skipped(cell, db="sqlite", variant="")
    assert "not installed" in record.error


def test_attach_failure_reads_the_exit_and_the_output() -> None:
    assert attach_failure(returncode=0, stderr="py-spy> Wrote raw data", wrote_output=True) is None
    refused = attach_failure(returncode=1, stderr=PERMISSION_ERROR, wrote_output=False)
    assert refused is not None and refused.hint == ATTACH_HINT
    other = attach_failure(
        returncode=1, stderr="Error: unsupported version of Python: 2.7", wrote_output=False
    )
    assert other is not None and other.hint == "" and "unsupported version" in other.reason


def test_failed_reads_come_from_py_spys_summary_line() -> None:
    said = (
        "py-spy> Sampling process 200 times a second. Press Control-C to exit.\n\n"
        "py-spy> Stopped sampling because Control-C pressed\n"
        "py-spy> Wrote raw flamegraph data to 'out.txt'. Samples: 355 Errors: 363\n"
    )
    assert failed_reads(said) == 363
    assert failed_reads("py-spy> Wrote raw flamegraph data to 'out.txt'. Samples: 10 Errors: 0") == 0
    assert failed_reads(PERMISSION_ERROR) == 0, "no summary: no profile, no failed reads"


def test_a_profiled_trials_record_keeps_its_failed_reads_unless_it_failed() -> None:
    cell = Cell("flask", "gunicorn", "json", 32, 0)
    row = ResultRow("flask", "gunicorn", "json", 32, 0, requests=100, rps=50.0)
    record = profile_record(
        cell, row, stacks_file="profiles/x.txt", failure=None, rate_hz=200, native=False, failed_samples=363
    )
    assert record.failed_samples == 363 and record.stacks_file == "profiles/x.txt"
    failed = profile_record(
        cell,
        row,
        stacks_file="profiles/x.txt",
        failure=attach_failure(returncode=1, stderr=PERMISSION_ERROR, wrote_output=False),
        rate_hz=200,
        native=False,
        failed_samples=5,
    )
    assert failed.failed_samples == 0 and failed.stacks_file == ""


def test_record_command_samples_every_process_holding_the_gil() -> None:
    command = record_command(
        executable=Path("py-spy"), pid=42, output=Path("o.txt"), rate_hz=200, native=False
    )
    assert command[:4] == ["py-spy", "record", "--pid", "42"]
    assert {"--subprocesses", "--gil", "--nonblocking", "--full-filenames"} <= set(command)
    assert command[command.index("--format") + 1] == "raw"
    native = record_command(executable=Path("py-spy"), pid=42, output=Path("o.txt"), rate_hz=100, native=True)
    assert "--native" in native and "--nonblocking" not in native


def test_profiled_cells_are_each_apps_default_server_on_the_first_database_once() -> None:
    schedule = [
        Cell("flask", "gunicorn", "db", 32, trial, db) for trial in (1, 2, 3) for db in ("postgres", "sqlite")
    ] + [
        Cell("flask", "gevent", "db", 32, 1, "postgres"),
        Cell("flask", "gunicorn", "plaintext", 32, 1, "postgres"),
    ]
    chosen = profiled_cells(schedule, scenarios=["db"], default_servers={"flask": "gunicorn"}, db="postgres")
    assert chosen == [Cell("flask", "gunicorn", "db", 32, 0, "postgres")]

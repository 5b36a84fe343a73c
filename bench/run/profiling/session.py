"""The profiled trials of a run: which cells get one, a recorder per trial, and the record it leaves.

A profiled trial is an extra trial of a cell, after its measured ones: the same server variant, scenario,
users and database, a window of the profile's profile_duration_s, py-spy sampling the server's processes. It
is never a row of results.jsonl, so no figure of the report counts it; its record (profiles.jsonl) keeps its
throughput and CPU per request, which the report sets against the measured trials' as the profiler's
overhead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from bench.results import PROFILES_DIR, PROFILES_FILE, ProfileRecord, ResultRow, append_profile
from bench.run.profiling.pyspy import NOT_INSTALLED, AttachFailure, PySpyRecorder, find_pyspy
from bench.run.schedule import Cell, db_label

log = logging.getLogger(__name__)

PROFILED_TRIAL = 0  # the trial number of a profiled cell (measured trials count from 1)


def profiled_cells(
    schedule: Sequence[Cell],
    *,
    scenarios: Sequence[str],
    default_servers: Mapping[str, str],
    db: str,
) -> list[Cell]:
    """Return the cells to profile, once each, in the schedule's order: those of the given scenarios (empty:
    every one) on each app's default server and the given database."""
    chosen: dict[Cell, None] = {}
    for cell in schedule:
        if scenarios and cell.scenario not in scenarios:
            continue
        if cell.server != default_servers.get(cell.app) or cell.db != db:
            continue
        chosen[replace(cell, trial=PROFILED_TRIAL)] = None
    return list(chosen)


def stacks_name(cell: Cell) -> str:
    """Return the file name of a cell's collapsed stacks (unique in a run: one profiled trial per cell)."""
    parts = (cell.app, cell.server, cell.scenario, str(cell.users), db_label(cell.db))
    return "-".join(part.replace("/", "_").replace(":", "_") for part in parts) + ".txt"


def profile_record(
    cell: Cell,
    row: ResultRow,
    *,
    stacks_file: str,
    failure: AttachFailure | None,
    rate_hz: int,
    native: bool,
    failed_samples: int = 0,
) -> ProfileRecord:
    """Return the record of a profiled trial from its row (pure)."""
    error = row.error or (failure.reason if failure else "")
    return ProfileRecord(
        app=cell.app,
        server=cell.server,
        scenario=cell.scenario,
        users=cell.users,
        db=row.db,
        variant=row.variant,
        rate_hz=rate_hz,
        native=native,
        duration_s=row.duration_s,
        requests=row.requests,
        rps=row.rps,
        server_cpu_s=row.server_cpu_s,
        server_user_s=row.server_user_s,
        server_system_s=row.server_system_s,
        cpu_ms_per_request=row.cpu_ms_per_request,
        stacks_file="" if failure else stacks_file,
        failed_samples=0 if failure else failed_samples,
        error=error,
        hint=failure.hint if failure else "",
    )


class ProfilingSession:
    """Gives each profiled trial of a run its recorder and writes its record. After a failure to attach for
    want of permission (or of py-spy), the other cells are not run at all: their records say why."""

    def __init__(self, *, run_dir: Path, logs_dir: Path, rate_hz: int, native: bool, cpus: Sequence[int]):
        self.run_dir, self.logs_dir = run_dir, logs_dir
        self.rate_hz, self.native, self.cpus = rate_hz, native, tuple(cpus)
        self.executable = find_pyspy()
        self.unavailable: AttachFailure | None = None if self.executable else AttachFailure(NOT_INSTALLED)

    def recorder(self, cell: Cell) -> PySpyRecorder | None:
        """Return the recorder of a cell's profiled trial (None when the profiler is unavailable)."""
        if self.unavailable is not None or self.executable is None:
            return None
        name = stacks_name(cell)
        return PySpyRecorder(
            executable=self.executable,
            output=self.run_dir / PROFILES_DIR / name,
            log_path=self.logs_dir / f"py-spy-{name.removesuffix('.txt')}.log",
            rate_hz=self.rate_hz,
            native=self.native,
            cpus=self.cpus,
        )

    def skipped(self, cell: Cell, *, db: str, variant: str) -> ProfileRecord:
        """Record a cell left unprofiled because the profiler is unavailable."""
        assert self.unavailable is not None
        record = ProfileRecord(
            app=cell.app,
            server=cell.server,
            scenario=cell.scenario,
            users=cell.users,
            db=db,
            variant=variant,
            rate_hz=self.rate_hz,
            native=self.native,
            error=self.unavailable.reason,
            hint=self.unavailable.hint,
        )
        append_profile(self.run_dir / PROFILES_FILE, record)
        return record

    def worth_another_try(self, row: ResultRow, recorder: PySpyRecorder) -> bool:
        """Return whether a profiled trial that gave no profile may give one when run again: the trial went
        well and py-spy failed for a reason other than a permission (which no second try changes)."""
        failure = recorder.failure
        return failure is not None and not failure.hint and not row.error

    def finished(self, cell: Cell, row: ResultRow, recorder: PySpyRecorder) -> ProfileRecord:
        """Write and return the record of a profiled trial; remember a failure to attach."""
        failure = recorder.failure
        if failure is not None:
            log.warning("no CPU profile of %s/%s: %s", cell.app, cell.scenario, failure.reason)
            if failure.hint:  # a permission: no other cell will do better
                log.warning("to allow it: %s", failure.hint)
                self.unavailable = failure
        record = profile_record(
            cell,
            row,
            stacks_file=f"{PROFILES_DIR}/{stacks_name(cell)}",
            failure=failure,
            rate_hz=self.rate_hz,
            native=self.native,
            failed_samples=recorder.failed_samples,
        )
        append_profile(self.run_dir / PROFILES_FILE, record)
        return record

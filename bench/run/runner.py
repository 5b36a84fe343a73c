"""`python -m bench run`: measure a matrix of apps x server variants x scenarios x user counts x trials.

bench/run/schedule.py lays the cells out; this module measures them one by one. Each cell's row is appended to
reports/<run-id>/results.jsonl the moment it ends; metadata.json records what the numbers depend on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.config import APPS_DIR, DEFAULT_HOST, REPORTS_DIR
from bench.errors import ServerError
from bench.processes import free_port
from bench.results import UNLOADED_PHASE, WARMUP_PHASE, ResultRow
from bench.run.database import scratch_directory
from bench.run.datacheck import SKIPPED, check_database, merge_write_logs
from bench.run.display import ProgressReporter, RunDisplay
from bench.run.layout import Layout, default_layout
from bench.run.lifecycle import RecordedRun, default_run_id, now_iso, recorded_run
from bench.run.loadgen.protocol import LoadSpec
from bench.run.loadgen.sweep import PlannedStep, SweepGrid, plan_sweep, shared_grid
from bench.run.measure import CellMeasurement, LoadGenerator, WindowHook
from bench.run.metadata import collect_metadata
from bench.run.pool import ServerPool
from bench.run.profiles import Profile
from bench.run.profiling.session import ProfilingSession, profiled_cells
from bench.run.schedule import EXTERNAL_SERVER, Cell, blocks_of, cell_label, db_label, plan_matrix
from bench.run.validity import (
    cell_error,
    cpu_utilization,
    generator_cores,
    is_generator_bound,
    server_cores,
    server_saturated,
    share_error,
)
from bench.run.yardstick import WrkAvailability, ensure_wrk, run_wrk
from bench.scenarios import ScenarioInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSettings:
    """A profile plus how this run is laid out on the machine (or machines)."""

    profile: Profile
    apps_dir: Path = APPS_DIR
    reports_dir: Path = REPORTS_DIR
    run_id: str | None = None
    server_cpus: frozenset[int] = frozenset({0})
    load_cpus: frozenset[int] = frozenset({1})
    db_cpus: frozenset[int] | None = None  # PostgreSQL's CPUs (None: the server's)
    locust_workers: int = 0  # local Locust worker processes (0: a single Locust process)
    master: bool = False  # the load generator is a Locust master waiting for `locust_workers` remote workers
    master_bind_host: str = "*"
    master_port: int = 5557
    target: str | None = None  # base URL of an app that runs elsewhere: measured as it is, not started
    variant: str = ""  # label of the rows (A/B comparisons)
    extra_env: Mapping[str, str] = field(default_factory=dict)  # given to every app server
    pin_runner: bool = True  # keep this process on the load CPUs, away from the server's
    command_line: str = ""

    @property
    def database_cpus(self) -> frozenset[int]:
        return self.db_cpus if self.db_cpus is not None else self.server_cpus

    @property
    def layout(self) -> Layout:
        """Return where this run's server, database and Locust processes go."""
        return Layout(
            server_cpus=self.server_cpus,
            db_cpus=self.database_cpus,
            load_cpus=self.load_cpus,
            load_processes=self.locust_workers or 1,
        )


def default_cpu_split(cpus: Sequence[int] | None = None) -> tuple[frozenset[int], frozenset[int]]:
    """Return (server and database CPUs, load CPUs) of the default layout, for the commands that start a
    server without telling the database apart (the gate, `bench serve`)."""
    layout = default_layout(cpus)
    return layout.server_cpus | layout.db_cpus, layout.load_cpus


# --- one cell -----------------------------------------------------------------------------------------------


def row_from_measurement(
    row: ResultRow,
    measurement: CellMeasurement,
    *,
    workers: int,
    server_cpus: int,
    generator_processes: int,
    load_cpus: int,
) -> None:
    """Fill a row's figures and validity flags from what was measured (pure: no processes, no files)."""
    summary = measurement.summary
    latency = summary.get("latency_ms", {})
    row.duration_s = float(summary.get("window_s") or measurement.wall_s)
    row.requests = int(summary.get("requests", 0))
    row.failures = int(summary.get("failures", 0))
    row.failures_by_kind = dict(summary.get("failures_by_kind", {}))
    row.requests_by_name = dict(summary.get("requests_by_name", {}))
    row.rps = row.requests / row.duration_s if row.duration_s > 0 else 0.0
    for key in ("p50", "p90", "p99", "p999", "max", "mean"):
        setattr(row, f"latency_{key}_ms", latency.get(key))
    wall_s = measurement.wall_s or row.duration_s
    server_util: float | None = None
    if measurement.server is not None:
        row.server_cpu_s = measurement.server.cpu_s
        row.server_user_s = measurement.server.user_s
        row.server_system_s = measurement.server.system_s
        row.server_cpu_util = cpu_utilization(
            cpu_s=measurement.server.cpu_s, wall_s=wall_s, cores=server_cpus
        )
        server_util = cpu_utilization(
            cpu_s=measurement.server.cpu_s,
            wall_s=wall_s,
            cores=server_cores(workers=workers, server_cpus=server_cpus),
        )
        row.cpu_ms_per_request = 1000 * measurement.server.cpu_s / row.requests if row.requests else None
        row.server_rss_mb = measurement.server.peak_rss_mb
        row.server_pss_mb = measurement.server.pss_mb
        row.server_processes = measurement.server.processes
    if measurement.database is not None:
        # The cluster's whole tree over the window: backends, and the background processes (checkpointer,
        # walwriter, autovacuum) whose work the cell's writes cause.
        row.db_cpu_s = measurement.database.cpu_s
        row.db_cpu_ms_per_request = 1000 * measurement.database.cpu_s / row.requests if row.requests else None
    row.server_cpus_busy = measurement.server_cpus_busy
    row.load_cpus_busy = measurement.load_cpus_busy
    if measurement.generator is not None:
        row.generator_cpu_s = measurement.generator.cpu_s
        row.generator_cpu_util = cpu_utilization(
            cpu_s=measurement.generator.cpu_s,
            wall_s=wall_s,
            cores=generator_cores(processes=generator_processes, load_cpus=load_cpus),
        )
    saturated = server_saturated(server_util=server_util, server_cpus_busy=measurement.server_cpus_busy)
    row.generator_bound = is_generator_bound(
        generator_util=row.generator_cpu_util if measurement.generator is not None else None,
        server_saturated=saturated,
    )
    row_from_sweep(row, summary)


def row_from_sweep(row: ResultRow, summary: Mapping[str, Any]) -> None:
    """Fill a row's open-loop figures from a load summary's sweep (none: no sweep)."""
    row.sweep = list(summary.get("sweep", []))
    row.open_users = int(summary.get("open_users", 0))
    for step in row.sweep:
        if step["phase"] == UNLOADED_PHASE:
            row.unloaded_p50_ms = step["p50_ms"]
    row.generator_behind = any(
        step["generator_behind"] for step in row.sweep if step["phase"] != WARMUP_PHASE
    )


class CellRunner:
    """Runs the cells of one run: servers from the pool, one load generator process, the data checks."""

    def __init__(
        self,
        settings: RunSettings,
        *,
        scenarios: Mapping[str, ScenarioInfo],
        pools: Mapping[str, ServerPool],
        workdir: Path,
        logs_dir: Path,
        loadgen_from: CellRunner | None = None,
    ) -> None:
        """loadgen_from: another runner whose load generator process this one uses (a versions run's
        runners, one per environment, share one)."""
        self.settings = settings
        self.loadgen_from = loadgen_from
        self.profile = settings.profile
        self.scenarios = scenarios
        self.pools = pools  # by database (a profile's db entry); empty when measuring a --target
        self.workdir = workdir
        self.logs_dir = logs_dir
        self.local_master_port = free_port()
        self._loadgen: LoadGenerator | None = None
        self._loadgens_started = 0
        self._loadspecs = 0
        self._writes: dict[Cell, list[dict[str, Any]]] = {}  # of cells whose data check waits for the sweep
        self.wrk: WrkAvailability | None = None
        if self.profile.yardstick and any(info.yardstick_path for info in scenarios.values()):
            self.wrk = ensure_wrk()
            if self.wrk.path is None:
                log.warning("no wrk yardstick in this run: %s", self.wrk.reason)

    def close(self) -> None:
        if self._loadgen is not None:
            self._loadgen.close()
            self._loadgen = None

    def _workers_of(self, cell: Cell) -> int:
        """Return the server processes of the cell's variant: the run's count, or the variant's own."""
        for pool in self.pools.values():
            if cell.app in pool.apps:
                return pool.apps[cell.app].server(cell.server).workers_for(self.profile.workers)
        return self.profile.workers

    def loadgen(self) -> LoadGenerator:
        """Return the run's load generator process, starting a new one if there is none or it went wrong."""
        if self.loadgen_from is not None:
            return self.loadgen_from.loadgen()
        if self._loadgen is not None and not self._loadgen.healthy:
            self.close()
        if self._loadgen is None:
            self._loadgens_started += 1
            log_path = self.logs_dir / f"loadgen-{self._loadgens_started}.log"
            self._loadgen = LoadGenerator(cpus=set(self.settings.load_cpus), log_path=log_path)
        return self._loadgen

    def run(
        self, cell: Cell, *, hooks: Sequence[WindowHook] = (), duration_s: float | None = None
    ) -> ResultRow:
        """Measure one cell and return its row (errors included: a cell never raises ServerError); hooks run
        over its window (a profiler), duration_s replaces the profile's window length."""
        settings, profile = self.settings, self.profile
        info = self.scenarios[cell.scenario]
        row = ResultRow(
            app=cell.app,
            server=cell.server,
            scenario=cell.scenario,
            users=cell.users,
            trial=cell.trial,
            db=EXTERNAL_SERVER if settings.target is not None else db_label(cell.db),
            workers=self._workers_of(cell),
            variant=settings.variant,
            started_at=now_iso(),
        )
        loadgen = self.loadgen()  # started before the server, so that their start-ups overlap
        server_pid: int | None = None
        database_pid: int | None = None
        host = settings.target
        pool = self.pools.get(cell.db)
        if pool is not None:
            try:
                # A sweep overloads its server: the next cell must not inherit its backlog.
                fresh = info.writes or profile.restart_every_cell or bool(profile.sweep)
                running = pool.get(cell.app, cell.server, fresh=fresh)
            except ServerError as exc:
                row.error = cell_error(start_error=str(exc).splitlines()[0])
                row.log_tail = exc.log_tail
                return row
            server_pid, host = running.pid, running.base_url
            database_pid = pool.database_pid
            if running.startup is not None:
                row.startup_s = running.startup.ready_s
                row.first_request_ms = running.startup.first_request_ms
                row.rest_pss_mb = running.startup.rest_pss_mb
        assert host is not None
        measurement = loadgen.measure(
            self._spec(cell, host=host, duration_s=duration_s),
            server_pid=server_pid,
            database_pid=database_pid,
            server_cpus=set(settings.server_cpus),
            load_cpus=set(settings.load_cpus),
            hooks=hooks,
        )
        # wrk before any sweep: an overload step may leave the server unable to answer for a while
        if self.wrk is not None and info.yardstick_path and not measurement.error:
            self._measure_with_wrk(row, url=host.rstrip("/") + info.yardstick_path, users=cell.users)
        self._finish_row(row, cell, info=info, measurement=measurement)
        return row

    def run_block(self, cells: Sequence[Cell], *, started: Callable[[str], None]) -> list[ResultRow]:
        """Measure a block of cells and return their rows: each cell's closed-loop window (and wrk), then,
        in a profile with a sweep, each cell's sweep at rates shared by the block (bench.run.loadgen.sweep's
        shared_grid, from the closed-loop rates just measured). started is told each pass's label."""
        rows = []
        for cell in cells:
            started(cell_label(cell))
            rows.append(self.run(cell))
        swept = [(cell, row) for cell, row in zip(cells, rows, strict=True) if not row.error and row.rps > 0]
        if self.profile.sweep and swept:
            grid = shared_grid(peaks=[row.rps for _, row in swept], shares=self.profile.sweep)
            for cell, row in swept:
                started(f"{cell_label(cell)} sweep")
                self.sweep(cell, row, grid=grid)
        return rows

    def _spec(
        self,
        cell: Cell,
        *,
        host: str,
        sweep_steps: Sequence[PlannedStep] = (),
        duration_s: float | None = None,
    ) -> LoadSpec:
        """Return what the load generator measures of a cell: its closed-loop window, or its sweep alone."""
        settings, profile = self.settings, self.profile
        self._loadspecs += 1
        return LoadSpec(
            scenario=cell.scenario,
            host=host,
            users=cell.users,
            warmup_s=profile.warmup_s,
            duration_s=duration_s or profile.duration_s,
            min_requests=profile.min_requests_for(cell.scenario),
            max_window_s=profile.max_window_s,
            summary_path=str(self.workdir / f"summary-{self._loadspecs}.json"),
            workers=0 if settings.master else settings.locust_workers,
            expect_workers=settings.locust_workers if settings.master else 0,
            # Local workers talk to their master on loopback, on a port of the run's own.
            master_bind_host=settings.master_bind_host if settings.master else DEFAULT_HOST,
            master_port=settings.master_port if settings.master else self.local_master_port,
            closed_loop=not sweep_steps,
            sweep_steps=[asdict(step) for step in sweep_steps],
            open_timeout_s=profile.open_timeout_s,
            open_users_max=profile.open_users_max,
            arrivals=profile.arrivals,
            arrival_seed=cell.trial,  # trials differ, a rerun plans the same arrivals
        )

    def sweep(self, cell: Cell, row: ResultRow, *, grid: SweepGrid) -> None:
        """Run a cell's open-loop sweep at the grid's rates on the server its closed-loop window ran on, and
        add it to the cell's row (its error included)."""
        info = self.scenarios[cell.scenario]
        host = self.settings.target
        server_pid: int | None = None
        pool = self.pools.get(cell.db)
        if pool is not None:
            running = pool.get_running(cell.app, cell.server)
            if running is None or not running.alive():
                row.error = row.error or "the server was gone before the sweep"
                return
            server_pid, host = running.pid, running.base_url
        assert host is not None
        steps = plan_sweep(
            grid=grid,
            peak_rps=row.rps,
            step_s=self.profile.step_s,
            warmup_s=self.profile.warmup_s,
            recovery_share=self.profile.recovery_share,
        )
        measurement = self.loadgen().measure(
            self._spec(cell, host=host, sweep_steps=steps),
            server_pid=server_pid,
            server_cpus=set(self.settings.server_cpus),
            load_cpus=set(self.settings.load_cpus),
        )
        row_from_sweep(row, measurement.summary)
        self._judge_row(row, cell, info=info, measurement=measurement)

    def _measure_with_wrk(self, row: ResultRow, *, url: str, users: int) -> None:
        """Measure the cell's server with wrk too, on the same connections and load CPUs (the yardstick)."""
        assert self.wrk is not None
        if self.wrk.path is None:
            row.wrk_error = self.wrk.reason
            return
        result = run_wrk(
            url=url,
            connections=users,
            duration_s=self.profile.duration_s,
            cpus=set(self.settings.load_cpus),
            wrk_path=self.wrk.path,
        )
        row.wrk_rps, row.wrk_p99_ms, row.wrk_error = result.rps, result.p99_ms, result.error

    def _finish_row(
        self, row: ResultRow, cell: Cell, *, info: ScenarioInfo, measurement: CellMeasurement
    ) -> None:
        settings = self.settings
        generator_processes = settings.locust_workers or 1
        row_from_measurement(
            row,
            measurement,
            workers=self._workers_of(cell),
            server_cpus=len(settings.server_cpus),
            generator_processes=generator_processes,
            load_cpus=len(settings.load_cpus),
        )
        self._judge_row(row, cell, info=info, measurement=measurement, sweep_follows=bool(self.profile.sweep))

    def _judge_row(
        self,
        row: ResultRow,
        cell: Cell,
        *,
        info: ScenarioInfo,
        measurement: CellMeasurement,
        sweep_follows: bool = False,
    ) -> None:
        """Set the row's error (and data check) from the cell's server and the load generator's last pass;
        sweep_follows: the cell's sweep comes next on the same server (its data check then waits for it)."""
        exit_code = None
        server_log = ""
        pool = self.pools.get(cell.db)
        if pool is not None:
            running = pool.get_running(cell.app, cell.server)
            if running is not None and not running.alive():
                exit_code = running.process.returncode
                server_log = running.log_tail()
                pool.stop(cell.app, cell.server)
        summary = measurement.summary
        # The closed-loop window's mix (a sweep's requests are counted by step, not by name)
        mix_error = share_error(
            requests_by_name=row.requests_by_name, stated_shares=dict(info.failure_shares)
        )

        def error_with(data_check: str) -> str:
            return cell_error(
                loadgen_error=measurement.error,
                server_exit_code=exit_code,
                requests=row.requests,
                failures=row.failures,
                failures_by_kind=row.failures_by_kind,
                user_errors=int(summary.get("user_errors", 0)),
                user_error_samples=list(summary.get("user_error_samples", [])),
                data_check=data_check,
                max_failure_ratio=self.profile.max_failure_ratio,
                mix_error=mix_error,
            )

        row.error = error_with("")
        if info.writes:
            # A cell with a sweep writes in two passes on one server: its data check waits for the second.
            writes = self._writes.pop(cell, []) + list(summary.get("writes", []))
            if sweep_follows and not row.error:
                self._writes[cell] = writes
            else:
                row.data_check = self._check_data(cell, writes, server_died=exit_code is not None)
                row.error = error_with(row.data_check)
        if row.error:
            row.log_tail = server_log or measurement.log_tail

    def _check_data(self, cell: Cell, writes: list[dict[str, Any]], *, server_died: bool) -> str:
        pool = self.pools.get(cell.db)
        if pool is None or not pool.fresh_copies:
            return f"{SKIPPED} (not a fresh database)"
        if server_died:
            return f"{SKIPPED} (the server died)"
        try:
            return check_database(pool.database_url(cell.app, cell.server), merge_write_logs(writes))
        except Exception as exc:  # a check that cannot run says so in the row; the run goes on
            log.warning("data check of %s/%s failed to run: %s", cell.app, cell.scenario, exc)
            return f"could not run: {type(exc).__name__}: {exc}"


# --- the run ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def pinned_to(cpus: frozenset[int], *, enabled: bool) -> Iterator[None]:
    """Keep this process (the runner) on cpus while the block runs."""
    if not enabled:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@dataclass(frozen=True)
class RunScope:
    """What a run's cells share: the run directory, a scratch folder, the progress display and a stack that
    owns what the run starts (databases, pools, the load generator)."""

    run: RecordedRun
    workdir: Path
    stack: contextlib.ExitStack
    progress: ProgressReporter


@contextlib.contextmanager
def run_scope(
    settings: RunSettings,
    *,
    profile_name: str,
    metadata: dict[str, Any],
    display: RunDisplay,
    cells: int,
    scratch_prefix: str,
) -> Iterator[RunScope]:
    """Open a recorded run, the runner pinned to the load CPUs; close all it started, in reverse."""
    with (
        recorded_run(
            reports_dir=settings.reports_dir,
            run_id=settings.run_id or default_run_id(profile_name),
            metadata=metadata,
        ) as run,
        pinned_to(settings.load_cpus, enabled=settings.pin_runner),
        scratch_directory(prefix=scratch_prefix) as workdir,
        contextlib.ExitStack() as stack,
        display.progress(total=cells) as progress,
    ):
        yield RunScope(run=run, workdir=Path(workdir), stack=stack, progress=progress)


def run_benchmark(settings: RunSettings, *, display: RunDisplay | None = None) -> Path:
    """Run the settings' matrix; return the run's directory (results.jsonl and metadata.json)."""
    profile = settings.profile
    seed = profile.seed if profile.seed is not None else random.SystemRandom().randrange(2**31)
    matrix = plan_matrix(profile, apps_dir=settings.apps_dir, target=settings.target, seed=seed)
    apps, scenarios, schedule = matrix.apps, matrix.scenarios, matrix.schedule
    metadata = collect_metadata(
        apps=[(apps[name], [s for a, s in matrix.targets if a == name]) for name in apps],
        db_kinds=[EXTERNAL_SERVER] if settings.target else [db_label(db) for db in profile.db],
        settings=run_settings_metadata(settings, seed=seed, cells=len(schedule)),
        command_line=settings.command_line,
    )
    metadata["profile"] = profile.name
    display = display or RunDisplay(quiet=True)
    with run_scope(
        settings,
        profile_name=profile.name,
        metadata=metadata,
        display=display,
        cells=len(schedule),
        scratch_prefix="bench-run-",
    ) as scope:
        run, workdir, stack, progress = scope.run, scope.workdir, scope.stack, scope.progress
        # One pool per database; a pool starts its database (a PostgreSQL cluster) when a cell first needs it.
        pools = {
            db: stack.enter_context(
                ServerPool(
                    apps=apps,
                    db=db,
                    workdir=Path(workdir),
                    logs_dir=run.logs_dir,
                    workers=profile.workers,
                    threads=profile.threads,
                    server_cpus=set(settings.server_cpus),
                    db_cpus=set(settings.database_cpus),
                    extra_env=settings.extra_env,
                )
            )
            for db in (profile.db if settings.target is None else ())
        }
        runner = CellRunner(
            settings, scenarios=scenarios, pools=pools, workdir=Path(workdir), logs_dir=run.logs_dir
        )
        stack.callback(runner.close)
        # With a sweep, a block's apps are swept after all of them ran closed loop: at the same offered rates.
        for block in blocks_of(schedule) if profile.sweep else [[cell] for cell in schedule]:
            for row in runner.run_block(block, started=progress.cell_started):
                run.append(row)
                progress.cell_done(row)
        if profile.profile_trial and settings.target is None:
            run_profiled_trials(
                runner,
                profiled_cells(
                    schedule,
                    scenarios=profile.profile_scenarios,
                    default_servers={name: spec.default_server for name, spec in apps.items()},
                    db=profile.db[0],
                ),
                session=ProfilingSession(
                    run_dir=run.run_dir,
                    logs_dir=run.logs_dir,
                    rate_hz=profile.profile_rate_hz,
                    native=profile.profile_native,
                    cpus=sorted(settings.load_cpus),
                ),
                started=progress.cell_started,
            )
    run_dir = run.run_dir
    display.summary(run_dir)
    return run_dir


# py-spy now and then reads no stack at all of a server it attached to (1 cell in 12 here: "Samples: 0
# Errors: 0" on Flask's /db, its gunicorn worker not found): such a profiled trial runs once more.
PROFILE_ATTEMPTS = 2


def run_profiled_trials(
    runner: CellRunner, cells: Sequence[Cell], *, session: ProfilingSession, started: Callable[[str], None]
) -> None:
    """Run each cell's extra, profiled trial (after every measured one) and record it in profiles.jsonl."""
    duration_s = runner.profile.profile_duration_s
    for cell in cells:
        for attempt in range(1, PROFILE_ATTEMPTS + 1):
            recorder = session.recorder(cell)
            if recorder is None:
                session.skipped(cell, db=db_label(cell.db), variant=runner.settings.variant)
                break
            started(f"{cell_label(cell)} profiled")
            row = runner.run(cell, hooks=[recorder], duration_s=duration_s)
            if attempt < PROFILE_ATTEMPTS and session.worth_another_try(row, recorder):
                log.warning("no CPU profile of %s (%s): once more", cell_label(cell), recorder.failure)
                continue
            session.finished(cell, row, recorder)
            break


def run_settings_metadata(settings: RunSettings, *, seed: int, cells: int) -> dict[str, Any]:
    profile = asdict(settings.profile)
    profile["scenario_users"] = {key: list(value) for key, value in settings.profile.scenario_users.items()}
    profile["scenario_trials"] = dict(settings.profile.scenario_trials)
    profile["scenario_servers"] = {
        key: list(value) for key, value in settings.profile.scenario_servers.items()
    }
    return {
        "profile": profile,
        "seed": seed,
        "cells": cells,
        "server_cpus": sorted(settings.server_cpus),
        "db_cpus": sorted(settings.database_cpus),
        "load_cpus": sorted(settings.load_cpus),
        "locust_workers": settings.locust_workers,
        "layout": settings.layout.as_metadata() | {"shared": settings.layout.shared()},
        "master": settings.master,
        "target": settings.target,
        "variant": settings.variant,
        "extra_env": dict(settings.extra_env),
    }

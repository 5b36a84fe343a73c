"""The result files of a run: one row per measured cell in results.jsonl, and metadata.json.

Every other module names columns through this one; reports are rendered from these files, never from memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, NamedTuple

from bench.config import REPORTS_DIR
from bench.errors import RunNotFoundError

RESULTS_FILE = "results.jsonl"
METADATA_FILE = "metadata.json"
LATEST_LINK = "latest"
SAVED_RUNS_LISTED = 8  # in the error for a run that does not exist

# The keys that identify a cell of the matrix (trials of one cell share them).
CELL_KEYS = ("app", "server", "scenario", "users", "db")


@dataclass
class ResultRow:
    """One measured cell: an app under one server variant, one scenario, one user count, one trial."""

    app: str
    server: str
    scenario: str
    users: int
    trial: int
    db: str = "sqlite"
    workers: int = 1
    variant: str = ""  # A/B label in `bench check --ab` runs, "" otherwise
    duration_s: float = 0.0
    requests: int = 0
    failures: int = 0
    failures_by_kind: dict[str, int] = field(default_factory=dict)
    rps: float = 0.0
    latency_p50_ms: float | None = None
    latency_p90_ms: float | None = None
    latency_p99_ms: float | None = None
    latency_p999_ms: float | None = None
    latency_max_ms: float | None = None
    server_cpu_s: float = 0.0
    server_user_s: float = 0.0  # of server_cpu_s, in user mode
    server_system_s: float = 0.0  # of server_cpu_s, in the kernel (system calls)
    server_cpu_util: float = 0.0  # CPU seconds per wall second, over the CPUs the server was given
    cpu_ms_per_request: float | None = None
    server_rss_mb: float = 0.0
    server_processes: int = 0
    generator_cpu_util: float = 0.0
    generator_bound: bool = False
    data_check: str = ""  # "ok", "skipped" or what was wrong
    error: str = ""  # empty when the cell is valid
    log_tail: str = ""
    started_at: str = ""
    # Added by the runner (issue 5): finer detail behind the figures above.
    requests_by_name: dict[str, int] = field(default_factory=dict)  # "GET /api/items/[id]" -> count
    latency_mean_ms: float | None = None
    server_pss_mb: float | None = None  # proportional set size of the tree: shared pages counted once
    server_cpus_busy: float | None = None  # how busy the server's CPUs were with anything (database included)
    load_cpus_busy: float | None = None
    generator_cpu_s: float = 0.0
    # How the cell's server started (shared by the cells that reused it): seconds to the first 200, that
    # first request's latency, and the tree's PSS before any load.
    startup_s: float | None = None
    first_request_ms: float | None = None
    rest_pss_mb: float | None = None
    # Open-loop rate sweep (profiles with `sweep`, issue 15): one SweepStep (as a dict) per step, in the order
    # they ran; the pool of users that carried the arrivals; the p50 at a low rate; any step whose generator
    # fell behind its schedule.
    sweep: list[dict[str, Any]] = field(default_factory=list)
    open_users: int = 0
    unloaded_p50_ms: float | None = None
    generator_behind: bool = False
    # The wrk yardstick on the same server, right after Locust (GET scenarios, profiles with `yardstick`)
    wrk_rps: float | None = None
    wrk_p99_ms: float | None = None
    wrk_error: str = ""  # why wrk did not measure the cell ("" when it did or was not asked)
    # The database's CPU over the window: the process tree of the run's PostgreSQL cluster (postmaster,
    # backends, background processes). None where the bench runs no database server (SQLite, a given URL).
    db_cpu_s: float | None = None
    db_cpu_ms_per_request: float | None = None

    @property
    def valid(self) -> bool:
        return not self.error and not self.generator_bound


ROW_FIELDS = tuple(f.name for f in fields(ResultRow))

# SweepStep.phase values, in the order a sweep runs them
WARMUP_PHASE = "warmup"  # opens the pool's connections; not reported
UNLOADED_PHASE = "unloaded"  # a low rate: the unloaded latency the default target is a multiple of
SWEEP_PHASE = "sweep"  # the rising steps, shares of the closed-loop peak
RECOVERY_PHASE = "recovery"  # the step after the overload one, back at a lower rate


@dataclass
class SweepStep:
    """One step of an open-loop rate sweep: requests planned at a fixed rate, latency from the planned start.

    Latencies are from each request's *planned* start (coordinated-omission corrected) unless named
    `uncorrected_`, which start when the request was actually sent (what closed-loop load reports). A
    request belongs to the step its start was planned in; `achieved_rps` counts the requests that completed
    during the step's own time, whichever step planned them.
    """

    phase: str
    share: float  # of the cell's closed-loop peak
    offered_rps: float
    duration_s: float
    planned: int = 0
    requests: int = 0  # planned in this step and completed (answered or failed)
    failures: int = 0
    timeouts: int = 0  # failures that were the client's timeout
    # Failed requests counted in the latencies at the client's timeout (their true latency is at least that);
    # a percentile at or above the timeout is then only a lower bound (its *_lower_bound flag).
    censored: int = 0
    late_starts: int = 0  # started late although a user was free: the generator fell behind
    waited_for_user: int = 0  # every user of the pool was busy when the request was due (it queued)
    unsent: int = 0  # planned but never sent: the scenario's tasks sent nothing for it (a bug if not 0)
    achieved_rps: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    max_ms: float | None = None
    p50_lower_bound: bool = False
    p99_lower_bound: bool = False
    p999_lower_bound: bool = False
    uncorrected_p50_ms: float | None = None
    uncorrected_p99_ms: float | None = None
    generator_cpu_util: float | None = None  # the load generator's CPU over the step (1.0: its whole core)
    generator_behind: bool = False
    slice_s: float = 0.0  # the step cut in slices of this length, by planned start...
    slice_p99_ms: list[float | None] = field(default_factory=list)  # ...and each slice's corrected p99


STEP_FIELDS = tuple(f.name for f in fields(SweepStep))


def sweep_steps(row: dict[str, Any]) -> list[SweepStep]:
    """Return a saved row's sweep steps (an empty list for a closed-loop row or an older results file)."""
    return [
        SweepStep(**{k: v for k, v in step.items() if k in STEP_FIELDS}) for step in row.get("sweep") or []
    ]


# The CPU profiles of a run (issue 22): one extra, uncounted trial per profiled cell, its record in
# profiles.jsonl (never in results.jsonl: no figure of the report counts it) and its collapsed stacks under
# profiles/ (py-spy's raw format: one "frame;frame;... count" line per distinct stack).
PROFILES_FILE = "profiles.jsonl"
PROFILES_DIR = "profiles"


@dataclass
class ProfileRecord:
    """The profiled trial of one cell: what it measured (for the profiler's overhead), where its stacks are,
    or why there are none."""

    app: str
    server: str
    scenario: str
    users: int
    db: str
    variant: str = ""
    rate_hz: int = 0  # samples per second and thread
    native: bool = False  # C frames included (py-spy --native)
    duration_s: float = 0.0
    requests: int = 0
    rps: float = 0.0
    server_cpu_s: float = 0.0
    server_user_s: float = 0.0  # of server_cpu_s, in user mode: what the samples can see, and C code
    server_system_s: float = 0.0  # of server_cpu_s, in the kernel: no Python sample stands for it
    cpu_ms_per_request: float | None = None
    stacks_file: str = ""  # relative to the run folder; "" when there is no profile
    failed_samples: int = 0  # py-spy's failed reads (its "Errors"): a stack it could not read
    error: str = ""  # why there is no profile (py-spy could not attach, the trial failed); "" when there is
    hint: str = ""  # how to allow the profiler, when it could not attach


PROFILE_FIELDS = tuple(f.name for f in fields(ProfileRecord))


def append_profile(path: Path, record: ProfileRecord) -> None:
    """Append one profiled trial's record to a profiles.jsonl file."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")


def read_profiles(run_dir: Path) -> list[ProfileRecord]:
    """Return the profiled trials of a run (empty when it profiled none); unknown keys are ignored."""
    path = run_dir / PROFILES_FILE
    if not path.is_file():
        return []
    return [
        ProfileRecord(**{key: value for key, value in row.items() if key in PROFILE_FIELDS})
        for row in read_rows(path)
    ]


def append_row(path: Path, row: ResultRow) -> None:
    """Append one row to a results.jsonl file and flush it to disk at once."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
        handle.flush()


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the rows of a results.jsonl file as dicts; a torn last line (a run that died) is skipped."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def find_run_dir(run: str | None, *, reports_dir: Path = REPORTS_DIR) -> Path:
    """Return the run folder named by run: a path, a run id under reports_dir, or None for the latest run."""
    candidates = [reports_dir / LATEST_LINK] if run is None else [Path(run), reports_dir / run]
    for candidate in candidates:
        if (candidate / RESULTS_FILE).is_file():
            return candidate.resolve()
    saved = sorted(
        path.parent.name for path in reports_dir.glob(f"*/{RESULTS_FILE}") if path.parent.name != LATEST_LINK
    )
    listed = ", ".join(saved[-SAVED_RUNS_LISTED:]) or "none"
    if len(saved) > SAVED_RUNS_LISTED:
        listed = f"{len(saved) - SAVED_RUNS_LISTED} older ones and {listed}"
    wanted = candidates[0] if run is None else run
    raise RunNotFoundError(
        f"no run folder with results at {wanted}: run `make bench` (or `python -m bench run`) first, or "
        f"name a saved run (runs under {reports_dir}: {listed})"
    )


class SavedRun(NamedTuple):
    """A saved run as its files hold it: every row of results.jsonl, and metadata.json (None when missing)."""

    rows: list[dict[str, Any]]
    metadata: dict[str, Any] | None


def read_run(run_dir: Path) -> SavedRun:
    """Return a run folder's rows and metadata: the one reader of saved runs (the report's, the gate's)."""
    results = run_dir / RESULTS_FILE
    if not results.is_file():
        raise RunNotFoundError(f"{results} does not exist: is {run_dir} a run folder (did the run start)?")
    rows = list(read_rows(results))
    if not rows:
        raise RunNotFoundError(f"{results} has no complete row: the run ended before its first cell finished")
    metadata_path = run_dir / METADATA_FILE
    return SavedRun(rows, read_metadata(metadata_path) if metadata_path.is_file() else None)


def write_metadata(path: Path, metadata: dict[str, Any]) -> None:
    """Write metadata.json (pretty, stable key order)."""
    path.write_text(json.dumps(metadata, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def read_metadata(path: Path) -> dict[str, Any]:
    """Return the parsed metadata.json of a run."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def rows_to_dicts(rows: Iterable[ResultRow]) -> list[dict[str, Any]]:
    """Return rows as plain dicts (what pandas and json take)."""
    return [asdict(row) for row in rows]

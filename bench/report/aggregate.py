"""Aggregation of a run's results: pure functions of data frames, tested without processes or files.

One row of results.jsonl is one trial of one cell (app, server, scenario, user count). A trial is valid
when it has no error and the load generator was not the limit (ResultRow.valid). Medians, confidence intervals
and coefficients of variation use valid trials only; flagged trials are counted and listed, never averaged in.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from bench.columns import (
    APP,
    CPU_MS_PER_REQUEST,
    DATA_CHECK,
    DB,
    DB_CPU_MS_PER_REQUEST,
    ERROR,
    FAILURES,
    FAILURES_BY_KIND,
    FIRST_REQUEST_MS,
    GENERATOR_BOUND,
    GENERATOR_CPU_UTIL,
    LATENCY_P50,
    LATENCY_P99,
    REQUESTS,
    REST_PSS,
    RPS,
    SCENARIO,
    SERVER,
    SERVER_CPU_UTIL,
    SERVER_PSS,
    SERVER_RSS,
    STARTED_AT,
    STARTUP_S,
    TRIAL,
    USERS,
    VARIANT,
    WORKERS,
)
from bench.noise import coefficient_of_variation
from bench.results import CELL_KEYS, ROW_FIELDS, ResultRow

# Columns this module adds to each row.
STATUS = "status"
MEMORY_PER_WORKER = "memory_per_worker_mb"
# The app's CPU plus the database's per request: the cost a user pays for both (NaN where the bench ran no
# database server: SQLite lives in the app's process and is counted in its CPU already).
APP_DB_CPU_MS_PER_REQUEST = "app_db_cpu_ms_per_request"

STATUS_OK = "ok"
STATUS_PARTIAL = "partial"  # some trials valid, some flagged: the figures use the valid ones
STATUS_GENERATOR_BOUND = "generator_bound"
STATUS_ERROR = "error"

# The metrics summarised per cell; throughput first, it is the headline.
METRICS: tuple[str, ...] = (
    RPS,
    LATENCY_P50,
    LATENCY_P99,
    CPU_MS_PER_REQUEST,
    MEMORY_PER_WORKER,
    DB_CPU_MS_PER_REQUEST,
    APP_DB_CPU_MS_PER_REQUEST,
)

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20240101
NOISY_CV = 0.10  # a cell whose throughput or CPU cost varies more than this between trials is flagged
DATA_CHECK_FINE = frozenset({"", "ok", "skipped"})


def median_of(metric: str) -> str:
    return f"{metric}_median"


def ci_low_of(metric: str) -> str:
    return f"{metric}_ci_low"


def ci_high_of(metric: str) -> str:
    return f"{metric}_ci_high"


def cv_of(metric: str) -> str:
    return f"{metric}_cv"


RATIO_TO_BEST = "ratio_to_best"
CPU_PER_REQUEST = "cpu_ms_per_request_any"  # the valid trials' median, else the generator-bound trials'
CPU_RATIO_TO_CHEAPEST = "cpu_ratio_to_cheapest"  # CPU per request over the cheapest cell's in its scenario
BOUND_RPS = "generator_bound_rps"  # what a generator-bound cell reached: a lower bound, not a measurement
# Measured by the server even when the load generator was the limit, so kept for those cells too.
SERVER_METRICS: tuple[str, ...] = tuple(metric for metric in METRICS if metric != RPS)


def bound_median_of(metric: str) -> str:
    """Return the column of metric's median over a cell's generator-bound trials."""
    return f"{metric}_generator_bound_median"


TRIALS = "trials"
VALID_TRIALS = "valid_trials"
GENERATOR_BOUND_TRIALS = "generator_bound_trials"
ERROR_TRIALS = "error_trials"
ERRORS = "errors"
TRIAL_REQUESTS = "fewest_trial_requests"  # the requests of the cell's smallest valid trial
TRIAL_RPS = "trial_rps"


def _row_defaults() -> dict[str, Any]:
    return asdict(ResultRow(app="", server="", scenario="", users=0, trial=0))


def frame_from_rows(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Return the rows as a typed data frame with every ResultRow column, a status and memory per process."""
    defaults = _row_defaults()
    records = [{name: row.get(name, defaults[name]) for name in ROW_FIELDS} for row in rows]
    frame = pd.DataFrame.from_records(records, columns=list(ROW_FIELDS))
    for name in (APP, SERVER, SCENARIO, DB, VARIANT, ERROR, DATA_CHECK, STARTED_AT):
        frame[name] = frame[name].fillna("").astype(str)
    for name in (USERS, TRIAL, REQUESTS, FAILURES, WORKERS):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").fillna(0).astype(int)
    numeric = (
        RPS,
        LATENCY_P50,
        LATENCY_P99,
        CPU_MS_PER_REQUEST,
        DB_CPU_MS_PER_REQUEST,
        SERVER_RSS,
        SERVER_PSS,
        SERVER_CPU_UTIL,
    )
    for name in (*numeric, STARTUP_S, FIRST_REQUEST_MS, REST_PSS):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame[GENERATOR_BOUND] = frame[GENERATOR_BOUND].fillna(False).astype(bool)
    frame[STATUS] = [
        STATUS_ERROR if error else STATUS_GENERATOR_BOUND if bound else STATUS_OK
        for error, bound in zip(frame[ERROR], frame[GENERATOR_BOUND], strict=True)
    ]
    # Memory per worker: the whole server tree (a process manager included: it is part of the cost of serving)
    # divided by the workers. PSS counts pages shared between workers once; RSS, where PSS is unknown, counts
    # them in every process. Zero means not measured.
    memory = frame[SERVER_PSS].where(frame[SERVER_PSS] > 0, frame[SERVER_RSS])
    workers = frame[WORKERS].where(frame[WORKERS] > 0)
    frame[MEMORY_PER_WORKER] = memory.where(memory > 0) / workers
    # Per trial, so that the cell's median is that of the sums (a NaN database figure stays NaN).
    frame[APP_DB_CPU_MS_PER_REQUEST] = frame[CPU_MS_PER_REQUEST] + frame[DB_CPU_MS_PER_REQUEST]
    return frame


@dataclass(frozen=True)
class MetricSummary:
    median: float
    ci_low: float
    ci_high: float
    cv: float


def summarize_trials(
    values: Sequence[float], *, seed: int = BOOTSTRAP_SEED, resamples: int = BOOTSTRAP_RESAMPLES
) -> MetricSummary:
    """Return the median, its bootstrap confidence interval and the coefficient of variation of values.

    NaN values are dropped. With one value there is no interval and no CV (NaN); the bootstrap uses its own
    generator seeded with seed, so a report is the same every time it is rebuilt.
    """
    data = np.asarray([value for value in values if not math.isnan(value)], dtype=float)
    if data.size == 0:
        return MetricSummary(math.nan, math.nan, math.nan, math.nan)
    median = float(np.median(data))
    if data.size == 1:
        return MetricSummary(median, math.nan, math.nan, math.nan)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, data.size, size=(resamples, data.size))
    medians = np.median(data[picks], axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(medians, [tail, 100 - tail])
    return MetricSummary(median, float(low), float(high), coefficient_of_variation(data.tolist()))


def _cell_status(valid: int, bound: int, errors: int) -> str:
    if valid and not (bound or errors):
        return STATUS_OK
    if valid:
        return STATUS_PARTIAL
    return STATUS_ERROR if errors else STATUS_GENERATOR_BOUND


def _trial_label(trial: int, rps: float, status: str) -> str:
    figure = "n/a" if math.isnan(rps) else f"{rps:.1f}"
    return f"#{trial}={figure}" + ("" if status == STATUS_OK else f" ({status})")


def aggregate_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Return one row per cell: trial counts, status, and each metric's median, CI and CV (valid trials)."""
    records: list[dict[str, Any]] = []
    for keys, trials in frame.groupby(list(CELL_KEYS), sort=True):
        valid = trials[trials[STATUS] == STATUS_OK]
        bound = trials[trials[STATUS] == STATUS_GENERATOR_BOUND]
        record: dict[str, Any] = dict(zip(CELL_KEYS, keys, strict=True))
        record[VARIANT] = ",".join(sorted(set(trials[VARIANT])))
        record[TRIALS] = len(trials)
        record[VALID_TRIALS] = len(valid)
        record[GENERATOR_BOUND_TRIALS] = len(bound)
        record[ERROR_TRIALS] = int((trials[STATUS] == STATUS_ERROR).sum())
        record[STATUS] = _cell_status(len(valid), len(bound), record[ERROR_TRIALS])
        for metric in METRICS:
            summary = summarize_trials(valid[metric].tolist())
            record[median_of(metric)] = summary.median
            record[ci_low_of(metric)] = summary.ci_low
            record[ci_high_of(metric)] = summary.ci_high
            record[cv_of(metric)] = summary.cv
        record[BOUND_RPS] = float(bound[RPS].median()) if len(bound) else math.nan
        # Throughput of those trials is a lower bound, but what the server spent on each request was measured.
        for metric in SERVER_METRICS:
            record[bound_median_of(metric)] = float(bound[metric].median()) if len(bound) else math.nan
        record[REQUESTS] = int(valid[REQUESTS].sum())
        # A trial's percentiles rest on its own requests: the smallest valid trial says what they all rest on.
        record[TRIAL_REQUESTS] = int(valid[REQUESTS].min()) if len(valid) else 0
        record[FAILURES] = int(valid[FAILURES].sum())
        record[ERRORS] = "; ".join(sorted({error for error in trials[ERROR] if error}))
        ordered = trials.sort_values(TRIAL)
        record[TRIAL_RPS] = ", ".join(
            _trial_label(int(trial), float(rps), str(status))
            for trial, rps, status in zip(ordered[TRIAL], ordered[RPS], ordered[STATUS], strict=True)
        )
        records.append(record)
    cells = pd.DataFrame.from_records(records)
    if cells.empty:
        return cells
    best = cells.groupby([SCENARIO, USERS, DB])[median_of(RPS)].transform("max")
    cells[RATIO_TO_BEST] = cells[median_of(RPS)] / best
    # CPU per request is measured in generator-bound cells too: their figure stands in for the missing median.
    cpu = cells[median_of(CPU_MS_PER_REQUEST)].fillna(cells[bound_median_of(CPU_MS_PER_REQUEST)])
    cells[CPU_PER_REQUEST] = cpu
    cells[CPU_RATIO_TO_CHEAPEST] = cpu / cpu.groupby([cells[SCENARIO], cells[USERS], cells[DB]]).transform(
        "min"
    )
    return cells


@dataclass(frozen=True)
class CellWarning:
    """Something a reader must know about one cell (or the whole run when app is "")."""

    app: str
    server: str
    scenario: str
    users: int
    kind: str
    message: str
    db: str = ""

    @property
    def cell(self) -> str:
        if not self.app:
            return "whole run"
        parts = [self.app, self.server, self.scenario, f"{self.users} users", self.db]
        return " / ".join(part for part in parts if part)


def _shorten(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _trials_text(trials: pd.DataFrame) -> str:
    numbers = ", ".join(str(int(trial)) for trial in trials[TRIAL])
    return f"trial {numbers}" if len(trials) == 1 else f"trials {numbers}"


def _range_text(values: pd.Series, unit: str = "") -> str:
    low, high = float(values.min()), float(values.max())
    text = f"{low:,.0f}" if low == high else f"{low:,.0f}–{high:,.0f}"
    return text + unit


def _trial_warnings(frame: pd.DataFrame) -> list[CellWarning]:
    """Return one warning per cell and kind of trouble, naming the trials it concerns."""
    found: list[CellWarning] = []
    for keys, trials in frame.sort_values(TRIAL).groupby(list(CELL_KEYS), sort=True):
        where = (str(keys[0]), str(keys[1]), str(keys[2]), int(str(keys[3])))
        db = str(keys[4])
        failed = trials[trials[STATUS] == STATUS_ERROR]
        if len(failed):
            errors = "; ".join(sorted({_shorten(error) for error in failed[ERROR]}))
            message = (
                f"{_trials_text(failed)} failed and {'is' if len(failed) == 1 else 'are'} excluded: {errors}"
            )
            found.append(CellWarning(*where, STATUS_ERROR, message, db))
        bound = trials[trials[STATUS] == STATUS_GENERATOR_BOUND]
        if len(bound):
            message = (
                f"{_trials_text(bound)} excluded: the load generator was the limit (it used up to "
                f"{bound[GENERATOR_CPU_UTIL].max():.0%} of its CPU, the server at most "
                f"{bound[SERVER_CPU_UTIL].max():.0%} of its own); the {_range_text(bound[RPS], ' req/s')} "
                "measured is only a lower bound of what the app can do"
            )
            found.append(CellWarning(*where, STATUS_GENERATOR_BOUND, message, db))
        checked = trials[~trials[DATA_CHECK].isin(DATA_CHECK_FINE)]
        if len(checked):
            problems = "; ".join(sorted({_shorten(problem) for problem in checked[DATA_CHECK]}))
            message = f"{_trials_text(checked)}: the data check after the run failed: {problems}"
            found.append(CellWarning(*where, "data_check", message, db))
        with_failures = trials[(trials[STATUS] == STATUS_OK) & (trials[FAILURES] > 0)]
        if len(with_failures):
            share = with_failures[FAILURES].sum() / max(int(with_failures[REQUESTS].sum()), 1)
            kinds: dict[str, int] = {}
            for by_kind in with_failures[FAILURES_BY_KIND]:
                for kind, count in (by_kind or {}).items():
                    kinds[kind] = kinds.get(kind, 0) + int(count)
            detail = ", ".join(f"{kind}: {count}" for kind, count in sorted(kinds.items()))
            message = (
                f"{_trials_text(with_failures)}: {int(with_failures[FAILURES].sum())} failed requests "
                f"({share:.2%} of theirs)" + (f"; {detail}" if detail else "")
            )
            found.append(CellWarning(*where, "failures", message, db))
    return found


def _cell_warnings(cells: pd.DataFrame) -> list[CellWarning]:
    found: list[CellWarning] = []
    single_trial_everywhere = bool((cells[VALID_TRIALS] <= 1).all())
    for record in cells.to_dict(orient="records"):
        where = (record[APP], record[SERVER], record[SCENARIO], int(record[USERS]))
        db = str(record[DB])
        if "," in record[VARIANT]:
            message = f"trials of different A/B variants ({record[VARIANT]}): the median mixes them"
            found.append(CellWarning(*where, "mixed", message, db))
        for metric, label in ((RPS, "throughput"), (CPU_MS_PER_REQUEST, "CPU per request")):
            cv = record[cv_of(metric)]
            if not math.isnan(cv) and cv > NOISY_CV:
                message = (
                    f"too noisy: the {label} varies by {cv:.1%} between trials (CV above {NOISY_CV:.0%}); "
                    "treat differences smaller than that as unknown"
                )
                found.append(CellWarning(*where, "noisy", message, db))
        if record[VALID_TRIALS] == 1 and not single_trial_everywhere:
            message = "only one valid trial: no confidence interval and no CV"
            found.append(CellWarning(*where, "few_trials", message, db))
    if single_trial_everywhere and (cells[VALID_TRIALS] == 1).any():
        message = "every cell has at most one valid trial: no confidence intervals, noise is unknown"
        found.append(CellWarning("", "", "", 0, "few_trials", message))
    return found


def _missing_warnings(cells: pd.DataFrame) -> list[CellWarning]:
    found: list[CellWarning] = []
    apps = sorted(set(cells[APP]))
    present = set(zip(cells[APP], cells[SCENARIO], cells[USERS], cells[DB], strict=True))
    for scenario, users, db in sorted(set(zip(cells[SCENARIO], cells[USERS], cells[DB], strict=True))):
        for app in apps:
            if (app, scenario, users, db) not in present:
                message = (
                    "missing: results.jsonl has no row for this cell (the run was cut short or skipped it)"
                )
                found.append(CellWarning(app, "", scenario, int(users), "missing", message, str(db)))
    return found


def collect_warnings(frame: pd.DataFrame, cells: pd.DataFrame) -> list[CellWarning]:
    """Return every reason to distrust a figure: flagged trials, failures, noise, mixed and missing cells."""
    if frame.empty:
        return []
    return [*_trial_warnings(frame), *_cell_warnings(cells), *_missing_warnings(cells)]


# The database a headline figure comes from, when a scenario ran on several: PostgreSQL first (a server
# database, as in production), then SQLite.
DATABASE_ORDER = ("postgres", "sqlite")


def ordered_databases(values: Iterable[str]) -> list[str]:
    """Return the databases of a run in report order: PostgreSQL, SQLite, then any other."""
    found = set(values)
    return [db for db in DATABASE_ORDER if db in found] + sorted(found - set(DATABASE_ORDER))


def headline_cells(
    cells: pd.DataFrame,
    *,
    preferred_servers: Mapping[str, str],
    db: str | None = None,
    scenario_servers: Mapping[tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """Return one cell per app and scenario: the app's preferred server (scenario_servers[(app, scenario)]
    where given, else preferred_servers[app]), on the first database of DATABASE_ORDER the scenario ran on
    (or only cells of `db`), at the largest user count measured.

    An app measured without its preferred server falls back to the server listed first. These are the cells
    the comparison table quotes and the ranking uses.
    """
    if cells.empty:
        return cells
    if db is not None:
        cells = cells[cells[DB] == db]
    chosen: list[Hashable] = []
    for (app, scenario), group in cells.groupby([APP, SCENARIO], sort=True):
        on_db = group[group[DB] == ordered_databases(group[DB])[0]]
        servers = sorted(set(on_db[SERVER]))
        preferred = (scenario_servers or {}).get((str(app), str(scenario))) or preferred_servers.get(str(app))
        server = preferred if preferred in servers else servers[0]
        on_server = on_db[on_db[SERVER] == server]
        chosen.append(on_server[USERS].astype(int).idxmax())
    return cells.loc[chosen].reset_index(drop=True)


REST_MEMORY_PER_WORKER = "rest_memory_per_worker_mb"
LOAD_MEMORY_PER_WORKER = "load_memory_per_worker_mb"
STARTUP_COLUMNS = (APP, SERVER, STARTUP_S, FIRST_REQUEST_MS, REST_MEMORY_PER_WORKER, LOAD_MEMORY_PER_WORKER)


def startup_and_memory(frame: pd.DataFrame) -> pd.DataFrame:
    """Return per app and server: the median over its server starts of the seconds to the first 200 and of
    that first request's latency, the memory per worker at rest (after start, before load) and under load
    (the median over its valid cells)."""
    records: list[dict[str, Any]] = []
    for (app, server), rows in frame.groupby([APP, SERVER], sort=True):
        # Cells that reused a server repeat its start: each start counts once.
        starts = rows.dropna(subset=[STARTUP_S]).drop_duplicates(subset=[STARTUP_S, FIRST_REQUEST_MS])
        workers = starts[WORKERS].where(starts[WORKERS] > 0)
        under_load = rows[rows[STATUS] != STATUS_ERROR][MEMORY_PER_WORKER].dropna()
        records.append(
            {
                APP: app,
                SERVER: server,
                STARTUP_S: float(starts[STARTUP_S].median()) if len(starts) else math.nan,
                FIRST_REQUEST_MS: float(starts[FIRST_REQUEST_MS].median()) if len(starts) else math.nan,
                REST_MEMORY_PER_WORKER: (
                    float((starts[REST_PSS] / workers).median()) if len(starts) else math.nan
                ),
                LOAD_MEMORY_PER_WORKER: float(under_load.median()) if len(under_load) else math.nan,
            }
        )
    return pd.DataFrame.from_records(records, columns=list(STARTUP_COLUMNS))


RANK = "rank"
SCORE = "score"
SCORED_SCENARIOS = "scored_scenarios"


RUN = "run"


def headline_history(
    runs: Sequence[tuple[str, pd.DataFrame]], *, preferred_servers: Mapping[str, str]
) -> pd.DataFrame:
    """Return run, app, scenario and median throughput for each run in order, from each run's raw rows."""
    parts: list[pd.DataFrame] = []
    for run, frame in runs:
        cells = aggregate_cells(frame)
        if cells.empty:
            continue
        headline = headline_cells(cells, preferred_servers=preferred_servers)
        part = headline[[APP, SCENARIO, USERS, median_of(RPS)]].copy()
        part.insert(0, RUN, run)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[RUN, APP, SCENARIO, USERS, median_of(RPS)])
    return pd.concat(parts, ignore_index=True)

"""Run-to-run spread: how much each cell's figures move between repeated runs of one profile. Pure.

Each run gives one value per cell and metric (the median over its trials); the spread is the coefficient of
variation of those values across the runs. CPU per request counts every trial that did not fail (a
generator-bound trial still measured what each request cost the server); requests/s counts only trials that
are neither generator-bound nor failed, since a generator-bound figure is a lower bound, not a measurement.

The machine itself drifts: on a shared host a whole run can come out 10-20% dearer than the one before, for
every app alike (docs/methodology.md, "Repeatability of the quick profile"). What the report compares is apps
measured side by side in one run, so the spread of that comparison is given too: each cell's CPU per request
relative to the geometric mean of the same scenario's cells (every app, same user count) in the same run, in
which the drift cancels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.columns import CPU_MS_PER_REQUEST, RPS, SCENARIO, USERS
from bench.noise import coefficient_of_variation
from bench.report.aggregate import STATUS, STATUS_ERROR, STATUS_GENERATOR_BOUND, STATUS_OK, cv_of, median_of
from bench.results import CELL_KEYS

GOAL_CV = 0.05  # the repeatability goal for the quick profile (docs/methodology.md)
RUN = "run"
RUNS = "runs"
GENERATOR_BOUND_RUNS = "generator_bound_runs"
ERROR_RUNS = "error_runs"
SPREAD_METRICS = (RPS, CPU_MS_PER_REQUEST)
CPU_RELATIVE = "cpu_ms_per_request_relative"  # to the geometric mean of the scenario's cells in the same run


def per_run_values(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Return one row per run and cell: its median rps and CPU per request, and whether it was flagged."""
    records: list[dict[str, Any]] = []
    for index, frame in enumerate(frames, start=1):
        for keys, trials in frame.groupby(list(CELL_KEYS), sort=True):
            measured = trials[trials[STATUS] != STATUS_ERROR]
            clean = trials[trials[STATUS] == STATUS_OK]
            record: dict[str, Any] = dict(zip(CELL_KEYS, keys, strict=True))
            record[RUN] = index
            record[RPS] = float(clean[RPS].median()) if len(clean) else math.nan
            record[CPU_MS_PER_REQUEST] = (
                float(measured[CPU_MS_PER_REQUEST].median()) if len(measured) else math.nan
            )
            record[GENERATOR_BOUND_RUNS] = bool((trials[STATUS] == STATUS_GENERATOR_BOUND).any())
            record[ERROR_RUNS] = bool((trials[STATUS] == STATUS_ERROR).any())
            records.append(record)
    values = pd.DataFrame.from_records(records)
    if not values.empty:
        values[CPU_RELATIVE] = values[CPU_MS_PER_REQUEST] / _run_geometric_means(values)
    return values


def _run_geometric_means(values: pd.DataFrame) -> pd.Series:
    """Return, for each row, the geometric mean of CPU per request over its run's cells of the same scenario
    and user count (cells without a figure left out)."""
    cpu = values[CPU_MS_PER_REQUEST]
    logs: pd.Series = cpu.where(cpu > 0).apply(math.log)
    means: pd.Series = logs.groupby([values[RUN], values[SCENARIO], values[USERS]]).transform("mean")
    return means.apply(math.exp)


def spread_across_runs(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Return one row per cell: runs, flagged runs, and each metric's median and CV across the runs."""
    values = per_run_values(frames)
    records: list[dict[str, Any]] = []
    if values.empty:
        return values
    for keys, runs in values.groupby(list(CELL_KEYS), sort=True):
        record: dict[str, Any] = dict(zip(CELL_KEYS, keys, strict=True))
        record[RUNS] = len(runs)
        record[GENERATOR_BOUND_RUNS] = int(runs[GENERATOR_BOUND_RUNS].sum())
        record[ERROR_RUNS] = int(runs[ERROR_RUNS].sum())
        for metric in SPREAD_METRICS:
            if metric == RPS and record[GENERATOR_BOUND_RUNS]:
                measured = []  # the load generator was the limit in some run: no spread of the app's rps
            else:
                measured = runs[metric].dropna().tolist()
            record[median_of(metric)] = float(np.median(measured)) if measured else math.nan
            record[cv_of(metric)] = coefficient_of_variation(measured)
        record[cv_of(CPU_RELATIVE)] = coefficient_of_variation(runs[CPU_RELATIVE].dropna().tolist())
        records.append(record)
    return pd.DataFrame.from_records(records)


def within_goal(spread: pd.DataFrame, metric: str, *, goal: float = GOAL_CV) -> tuple[int, int]:
    """Return how many cells have a CV of metric at most goal, out of the cells where it could be computed."""
    cvs = spread[cv_of(metric)].dropna()
    return int((cvs <= goal).sum()), len(cvs)

"""The open-loop figures of a run's cells: each cell's trials together (capacity at the target, knee,
overload, recovery, the curve over its steps) and which cells the run can tell apart. Pure functions of a
run's rows and of bench.report.latency.trials' per-trial figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bench.columns import APP, DB, SCENARIO, SERVER, TRIAL, USERS
from bench.report.aggregate import CellWarning
from bench.report.latency.targets import (
    LatencyTarget,
    TargetKey,
    sweep_rows,
)
from bench.report.latency.trials import (
    ABOVE,
    BELOW,
    Overload,
    Recovery,
    TrialSweep,
    step_name,
    steps_of,
    trial_sweep,
)
from bench.report.ties import order_text
from bench.results import CELL_KEYS, SweepStep

NO_NOISE_ESTIMATE = "fewer than two trials"
GENERATOR_BEHIND = "generator_behind"  # the kind of warning of a sweep whose load generator fell behind
GENERATOR_BEHIND_REASON = "the load generator fell behind its schedule (a lower bound)"

CellKey = tuple[str, str, str, int, str]  # CELL_KEYS: app, server, scenario, users, db


@dataclass(frozen=True)
class Spread:
    """The trials of one figure: their median, lowest and highest, and how many there are."""

    median: float
    low: float
    high: float
    count: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        data = [value for value in values if math.isfinite(value)]
        if not data:
            return cls(math.nan, math.nan, math.nan, 0)
        return cls(float(np.median(data)), min(data), max(data), len(data))

    @property
    def relative(self) -> float:
        """Return (high - low) / median: how far the trials disagree (NaN below two trials)."""
        return (self.high - self.low) / self.median if self.count > 1 and self.median > 0 else math.nan


# A p99 from fewer requests than this rests on under 10 above it: nearly the step's maximum, one hiccup's
# worth. 100 above it (10,000 requests) would make it stable; the report marks what it cannot give.
THIN_P99_REQUESTS = 1000
TAIL_SHARE = 0.01  # the share of a step's requests above its p99


@dataclass(frozen=True)
class CurvePoint:
    """One sweep step of a cell, each figure the median over its trials."""

    share: float
    offered_rps: float
    achieved_rps: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    uncorrected_p99_ms: float
    behind: bool  # the generator fell behind in this step in some trial
    requests: float = math.nan  # the median over the trials of the step's requests
    lower_bound: bool = False  # a failed or timed-out request (counted at the timeout) is in some trial's p99

    @property
    def above_p99(self) -> int:
        """Return how many of the step's requests lie above its p99: the samples the p99 rests on."""
        return int(self.requests * TAIL_SHARE) if math.isfinite(self.requests) else 0

    @property
    def thin(self) -> bool:
        """Return True when the p99 rests on so few requests that it is nearly the step's maximum."""
        return math.isfinite(self.requests) and self.requests < THIN_P99_REQUESTS


def _median(values: Iterable[float | None]) -> float:
    data = [value for value in values if value is not None and math.isfinite(value)]
    return float(np.median(data)) if data else math.nan


def sweep_curve(rows: Iterable[Mapping[str, Any]]) -> tuple[CurvePoint, ...]:
    """Return per sweep step index the median over the trials of its rates and latencies."""
    by_index: list[list[SweepStep]] = []
    for row in rows:
        for index, step in enumerate(steps_of(row)):
            if index == len(by_index):
                by_index.append([])
            by_index[index].append(step)
    return tuple(
        CurvePoint(
            share=_median(step.share for step in steps),
            offered_rps=_median(step.offered_rps for step in steps),
            achieved_rps=_median(step.achieved_rps for step in steps),
            p50_ms=_median(step.p50_ms for step in steps),
            p99_ms=_median(step.p99_ms for step in steps),
            p999_ms=_median(step.p999_ms for step in steps),
            uncorrected_p99_ms=_median(step.uncorrected_p99_ms for step in steps),
            behind=any(step.generator_behind for step in steps),
            requests=_median(step.requests for step in steps),
            lower_bound=any(step.p99_lower_bound for step in steps),
        )
        for steps in by_index
    )


@dataclass(frozen=True)
class CellSweep:
    """The open-loop figures of one cell: its target, each trial's figures and the curve over its steps."""

    key: CellKey
    label: str  # the app, with its server when the app ran several (as the charts' legends)
    target: LatencyTarget
    trials: tuple[TrialSweep, ...]
    curve: tuple[CurvePoint, ...]

    @property
    def peak(self) -> Spread:
        return Spread.of(trial.peak_rps for trial in self.trials)

    @property
    def capacity(self) -> Spread:
        return Spread.of(trial.capacity.rps for trial in self.trials)

    @property
    def capacity_of_peak(self) -> Spread:
        return Spread.of(trial.capacity.rps / trial.peak_rps for trial in self.trials if trial.peak_rps > 0)

    def bounded(self, bound: str) -> int:
        """Return how many trials' capacity is only known to be BELOW or ABOVE the sweep's range."""
        return sum(trial.capacity.bound == bound for trial in self.trials)

    @property
    def behind(self) -> int:
        """Return how many trials' capacity was decided on a step whose generator fell behind."""
        return sum(trial.behind for trial in self.trials)

    @property
    def knee(self) -> Spread:
        return Spread.of(trial.knee.rps for trial in self.trials)

    @property
    def knee_of_peak(self) -> Spread:
        return Spread.of(trial.knee.rps / trial.peak_rps for trial in self.trials if trial.peak_rps > 0)

    def knee_bounded(self, bound: str) -> int:
        """Return how many trials' latency took off at the first step (BELOW) or never (ABOVE)."""
        return sum(trial.knee.bound == bound for trial in self.trials)

    @property
    def overloads(self) -> list[Overload]:
        return [trial.overload for trial in self.trials if trial.overload is not None]

    @property
    def recoveries(self) -> list[Recovery]:
        return [trial.recovery for trial in self.trials if trial.recovery is not None]

    @property
    def recovery_s(self) -> Spread:
        """Return the seconds to recover of the trials that recovered within the step."""
        return Spread.of(r.seconds for r in self.recoveries if r.seconds is not None)

    @property
    def interval(self) -> tuple[float, float]:
        """Return the range the trials put the capacity in: a bound stretches it to 0 or to infinity."""
        lows = [0.0 if t.capacity.bound == BELOW else t.capacity.rps for t in self.trials]
        highs = [math.inf if t.capacity.bound == ABOVE else t.capacity.rps for t in self.trials]
        return min(lows), max(highs)


def cell_labels(keys: Iterable[CellKey]) -> dict[CellKey, str]:
    """Return each cell's label: its app, plus its server when the app ran on several."""
    keys = list(keys)
    servers: dict[str, set[str]] = {}
    for app, server, *_ in keys:
        servers.setdefault(app, set()).add(server)
    return {key: key[0] if len(servers[key[0]]) == 1 else f"{key[0]} ({key[1]})" for key in keys}


def cell_key(record: Mapping[Any, Any]) -> CellKey:
    """Return the key of a row's or a cell's cell."""
    return str(record[APP]), str(record[SERVER]), str(record[SCENARIO]), int(record[USERS]), str(record[DB])


def sweep_cells(frame: pd.DataFrame, targets: Mapping[TargetKey, LatencyTarget]) -> list[CellSweep]:
    """Return the open-loop figures of every cell with a sweep, in CELL_KEYS order."""
    rows = sweep_rows(frame)
    groups = {
        cell_key(dict(zip(CELL_KEYS, keys, strict=True))): trials.sort_values(TRIAL)
        for keys, trials in rows.groupby(list(CELL_KEYS), sort=True)
    }
    labels = cell_labels(groups)
    cells = []
    for key, trials in groups.items():
        target = targets.get((key[2], key[4]), LatencyTarget(math.nan, "no target"))
        records = [
            {str(name): value for name, value in record.items()} for record in trials.to_dict("records")
        ]
        cells.append(
            CellSweep(
                key=key,
                label=labels[key],
                target=target,
                trials=tuple(trial_sweep(record, target.ms) for record in records),
                curve=sweep_curve(records),
            )
        )
    return cells


# ---- which cells the run can tell apart --------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityStanding:
    """The cells of one scenario, database and user count by capacity: groups whose trials' ranges overlap."""

    groups: list[list[str]]  # labels, highest capacity first; a group's cells cannot be told apart
    unjudged: dict[str, str]  # label -> why nothing is said about it
    tied: dict[str, list[str]]  # label -> the labels whose ranges overlap its own

    @property
    def text(self) -> str:
        """Return e.g. "flask ≈ django > fastapi; fastapi (uvicorn): fewer than two trials"."""
        parts = [order_text(self.groups)] if self.groups else []
        # Overlaps are not transitive: a tie between cells of different groups is said as well.
        group_of = {label: index for index, group in enumerate(self.groups) for label in group}
        across = sorted(
            {
                tuple(sorted((label, other)))
                for label, others in self.tied.items()
                for other in others
                if label in group_of and other in group_of and group_of[label] != group_of[other]
            }
        )
        if across:
            parts.append("and " + ", ".join(f"{one} ≈ {two}" for one, two in across))
        parts += [f"{label}: {reason}" for label, reason in sorted(self.unjudged.items())]
        return "; ".join(parts)


def _overlap(one: tuple[float, float], other: tuple[float, float]) -> bool:
    return one[0] <= other[1] and other[0] <= one[1]


def capacity_standing(cells: Sequence[CellSweep]) -> CapacityStanding:
    """Return the standing of cells compared at one target: two cells whose trials' capacity ranges overlap
    cannot be told apart at the run's noise; cells with fewer than two trials, no target or a generator that
    fell behind are not judged."""
    unjudged: dict[str, str] = {}
    judged: list[CellSweep] = []
    for cell in cells:
        if not math.isfinite(cell.target.ms):
            unjudged[cell.label] = "no latency target"
        elif cell.behind:
            unjudged[cell.label] = GENERATOR_BEHIND_REASON
        elif cell.capacity.count < 2:
            unjudged[cell.label] = NO_NOISE_ESTIMATE
        else:
            judged.append(cell)
    judged.sort(key=lambda cell: (-cell.capacity.median, cell.label))
    tied = {
        cell.label: [
            other.label for other in judged if other is not cell and _overlap(cell.interval, other.interval)
        ]
        for cell in judged
    }
    groups: list[list[CellSweep]] = []
    for cell in judged:  # as bench.report.ties.tie_groups: a cell joins a group tied with every cell of it
        if groups and all(_overlap(member.interval, cell.interval) for member in groups[-1]):
            groups[-1].append(cell)
        else:
            groups.append([cell])
    # Within a group the cells are tied: listed alphabetically, not ranked.
    labels = [sorted(cell.label for cell in group) for group in groups]
    return CapacityStanding(labels, unjudged, tied)


def capacity_standings(cells: Sequence[CellSweep]) -> dict[tuple[str, str, int], CapacityStanding]:
    """Return (scenario, db, users) -> the standing of its cells."""
    grouped: dict[tuple[str, str, int], list[CellSweep]] = {}
    for cell in cells:
        grouped.setdefault((cell.key[2], cell.key[4], cell.key[3]), []).append(cell)
    return {key: capacity_standing(group) for key, group in grouped.items()}


def cells_by_key(cells: Iterable[CellSweep]) -> dict[CellKey, CellSweep]:
    return {cell.key: cell for cell in cells}


def headline_keys(headline: pd.DataFrame) -> dict[str, list[CellKey]]:
    """Return app -> the keys of its headline cells, in the frame's order."""
    keys: dict[str, list[CellKey]] = {}
    for record in headline.to_dict("records"):
        key = cell_key(record)
        keys.setdefault(key[0], []).append(key)
    return keys


def generator_behind_warnings(frame: pd.DataFrame) -> list[CellWarning]:
    """Return one warning per cell whose sweep's generator fell behind its schedule in some step."""
    found = []
    for keys, trials in sweep_rows(frame).sort_values(TRIAL).groupby(list(CELL_KEYS), sort=True):
        app, server, scenario, users, db = cell_key(dict(zip(CELL_KEYS, keys, strict=True)))
        behind = {
            int(row[TRIAL]): [step_name(step) for step in steps_of(row, None) if step.generator_behind]
            for row in trials.to_dict("records")
        }
        where = "; ".join(f"trial {trial}: {', '.join(names)}" for trial, names in behind.items() if names)
        if not where:
            continue
        message = (
            f"the load generator fell behind its open-loop schedule in some steps ({where}; a share is of "
            "the closed-loop rate): their latencies are partly the generator's, so a capacity decided on "
            "them is a lower bound"
        )
        found.append(CellWarning(app, server, scenario, users, GENERATOR_BEHIND, message, db))
    return found


# summary.csv's columns for the open-loop figures (a run with a sweep only), one line per cell
P99_TARGET = "p99_target_ms"
CAPACITY_MEDIAN, CAPACITY_MIN, CAPACITY_MAX = "capacity_rps_median", "capacity_rps_min", "capacity_rps_max"
CAPACITY_OF_PEAK = "capacity_of_peak"
CAPACITY_BELOW, CAPACITY_ABOVE = "capacity_trials_below_sweep", "capacity_trials_above_sweep"
KNEE_MEDIAN = "knee_rps_median"
OVERLOAD_OF_OFFERED, OVERLOAD_P99 = "overload_achieved_of_offered", "overload_p99_ms"
RECOVERY_MEDIAN, NOT_RECOVERED = "recovery_s_median", "recovery_trials_not_recovered"
BEHIND_TRIALS = "generator_behind_trials"
SWEEP_SUMMARY_COLUMNS: tuple[str, ...] = (
    P99_TARGET,
    CAPACITY_MEDIAN,
    CAPACITY_MIN,
    CAPACITY_MAX,
    CAPACITY_OF_PEAK,
    CAPACITY_BELOW,
    CAPACITY_ABOVE,
    KNEE_MEDIAN,
    OVERLOAD_OF_OFFERED,
    OVERLOAD_P99,
    RECOVERY_MEDIAN,
    NOT_RECOVERED,
    BEHIND_TRIALS,
)


def sweep_summary(cells: Sequence[CellSweep]) -> pd.DataFrame:
    """Return one line per cell with a sweep: CELL_KEYS, then SWEEP_SUMMARY_COLUMNS."""
    records = []
    for cell in cells:
        capacity = cell.capacity
        records.append(
            {
                **dict(zip(CELL_KEYS, cell.key, strict=True)),
                P99_TARGET: cell.target.ms,
                CAPACITY_MEDIAN: capacity.median,
                CAPACITY_MIN: capacity.low,
                CAPACITY_MAX: capacity.high,
                CAPACITY_OF_PEAK: cell.capacity_of_peak.median,
                CAPACITY_BELOW: cell.bounded(BELOW),
                CAPACITY_ABOVE: cell.bounded(ABOVE),
                KNEE_MEDIAN: cell.knee.median,
                OVERLOAD_OF_OFFERED: Spread.of(o.of_offered for o in cell.overloads).median,
                OVERLOAD_P99: Spread.of(o.p99_ms for o in cell.overloads).median,
                RECOVERY_MEDIAN: cell.recovery_s.median,
                NOT_RECOVERED: sum(not r.recovered for r in cell.recoveries),
                BEHIND_TRIALS: cell.behind,
            }
        )
    return pd.DataFrame.from_records(records, columns=[*CELL_KEYS, *SWEEP_SUMMARY_COLUMNS])

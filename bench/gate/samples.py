"""Cells across runs: what identifies one, and its valid samples per metric, from results.jsonl rows. Pure.

A regression check compares the same cell in two runs (or in the A and B halves of one A/B run). Flagged
trials (generator-bound, errors) never enter a sample: they are counted, and their errors kept, so that the
check can report them apart.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.columns import APP, DB, ERROR, GENERATOR_BOUND, SCENARIO, SERVER, TRIAL, USERS, VARIANT, WORKERS

VARIANT_A, VARIANT_B = "A", "B"  # A: the reference revision, B: the working tree (the candidate)


@dataclass(frozen=True, order=True)
class CellKey:
    """What identifies a cell across runs: the matrix keys, plus the database and the worker count."""

    app: str
    server: str
    scenario: str
    users: int
    db: str = "sqlite"
    workers: int = 1

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CellKey:
        return cls(
            app=str(row[APP]),
            server=str(row[SERVER]),
            scenario=str(row[SCENARIO]),
            users=int(row[USERS]),
            db=str(row.get(DB) or "sqlite"),
            workers=int(row.get(WORKERS) or 1),
        )

    @property
    def label(self) -> str:
        db = f" {self.db}" if self.db != "sqlite" else ""
        workers = f" w{self.workers}" if self.workers != 1 else ""
        return f"{self.app}/{self.server} {self.scenario} u{self.users}{db}{workers}"


@dataclass(frozen=True)
class CellSamples:
    """The valid values of each metric in one cell on one side, in trial order, and what was left out."""

    values: Mapping[str, tuple[float, ...]]
    trials: int
    generator_bound: int = 0
    errors: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.generator_bound or self.errors)


@dataclass(frozen=True)
class CellPairs:
    """One cell of an A/B run: each side's samples and the (A, B) values of trials valid on both sides."""

    a: CellSamples
    b: CellSamples
    pairs: Mapping[str, tuple[tuple[float, float], ...]]


def usable(value: Any) -> float | None:
    """Return value as a float when it can enter a ratio (finite and positive), else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def flagged_row(row: Mapping[str, Any]) -> bool:
    return bool(row.get(ERROR)) or bool(row.get(GENERATOR_BOUND))


def samples_of(rows: Sequence[Mapping[str, Any]], *, metrics: Iterable[str]) -> CellSamples:
    """Return the samples of one cell's rows."""
    values: dict[str, list[float]] = {metric: [] for metric in metrics}
    generator_bound, errors = 0, []
    for row in sorted(rows, key=lambda r: int(r.get(TRIAL) or 0)):
        if row.get(ERROR):
            errors.append(str(row[ERROR]))
        elif row.get(GENERATOR_BOUND):
            generator_bound += 1
        else:
            for metric, collected in values.items():
                value = usable(row.get(metric))
                if value is not None:
                    collected.append(value)
    return CellSamples(
        values={metric: tuple(collected) for metric, collected in values.items()},
        trials=len(rows),
        generator_bound=generator_bound,
        errors=tuple(errors),
    )


def rows_by_cell(rows: Iterable[Mapping[str, Any]]) -> dict[CellKey, list[Mapping[str, Any]]]:
    grouped: dict[CellKey, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[CellKey.from_row(row)].append(row)
    return dict(sorted(grouped.items()))


def collect_samples(
    rows: Iterable[Mapping[str, Any]], *, metrics: Iterable[str]
) -> dict[CellKey, CellSamples]:
    """Return each cell's samples from results.jsonl rows (flagged trials counted, not sampled)."""
    metrics = tuple(metrics)
    return {cell: samples_of(cell_rows, metrics=metrics) for cell, cell_rows in rows_by_cell(rows).items()}


def _pairs_of(
    by_trial: Mapping[str, Mapping[int, Mapping[str, Any]]], metric: str
) -> tuple[tuple[float, float], ...]:
    pairs = []
    for trial in sorted(set(by_trial[VARIANT_A]) & set(by_trial[VARIANT_B])):
        row_a, row_b = by_trial[VARIANT_A][trial], by_trial[VARIANT_B][trial]
        if flagged_row(row_a) or flagged_row(row_b):
            continue
        value_a, value_b = usable(row_a.get(metric)), usable(row_b.get(metric))
        if value_a is not None and value_b is not None:
            pairs.append((value_a, value_b))
    return tuple(pairs)


def collect_pairs(rows: Iterable[Mapping[str, Any]], *, metrics: Iterable[str]) -> dict[CellKey, CellPairs]:
    """Return each cell's A/B pairs from the rows of an A/B run: trial i of A with trial i of B."""
    metrics = tuple(metrics)
    result: dict[CellKey, CellPairs] = {}
    for cell, cell_rows in rows_by_cell(rows).items():
        sides = {
            variant: [row for row in cell_rows if row.get(VARIANT) == variant]
            for variant in (VARIANT_A, VARIANT_B)
        }
        by_trial = {
            variant: {int(row.get(TRIAL) or 0): row for row in side} for variant, side in sides.items()
        }
        result[cell] = CellPairs(
            a=samples_of(sides[VARIANT_A], metrics=metrics),
            b=samples_of(sides[VARIANT_B], metrics=metrics),
            pairs={metric: _pairs_of(by_trial, metric) for metric in metrics},
        )
    return result


def is_ab_run(rows: Iterable[Mapping[str, Any]]) -> bool:
    """Return True when the rows come from an A/B run (both variants present)."""
    return {VARIANT_A, VARIANT_B} <= {row.get(VARIANT) for row in rows}

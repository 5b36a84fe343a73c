"""The wrk yardstick of a run's cells: Locust's requests per second over wrk's on the same server, right after
it (bench.run.yardstick measures it). A ratio near 1 says Locust was not what limited the closed-loop
figure; well under 1, that Locust's own cost per request was. Pure functions of a run's rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from bench.columns import ERROR, RPS, TRIAL, WRK_ERROR, WRK_P99, WRK_RPS
from bench.report.latency.cells import CellKey, Spread, cell_key
from bench.results import CELL_KEYS


@dataclass(frozen=True)
class CellYardstick:
    """One cell measured by Locust and by wrk: their requests/s, the ratio, why wrk could not measure."""

    key: CellKey
    locust_rps: Spread  # the trials that did not fail
    wrk_rps: Spread  # the trials wrk measured
    ratio: Spread  # Locust / wrk, trial by trial
    wrk_p99_ms: float  # the median over the trials wrk measured (NaN: none)
    errors: tuple[str, ...]  # why wrk did not measure some trials

    @property
    def measured(self) -> bool:
        return self.wrk_rps.count > 0


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def has_yardstick(frame: pd.DataFrame) -> bool:
    """Return True when wrk measured, or tried to measure, some row of the run."""
    if WRK_RPS not in frame:
        return False
    return bool(_numbers(frame[WRK_RPS]).notna().any() or (frame[WRK_ERROR].fillna("") != "").any())


def yardstick_cells(frame: pd.DataFrame) -> list[CellYardstick]:
    """Return every cell wrk measured or tried to, in CELL_KEYS order."""
    if not has_yardstick(frame):
        return []
    rows = frame[frame[ERROR] == ""].copy()
    rows[WRK_RPS] = _numbers(rows[WRK_RPS])
    rows[WRK_P99] = _numbers(rows[WRK_P99])
    rows[WRK_ERROR] = rows[WRK_ERROR].fillna("").astype(str)
    cells = []
    for keys, trials in rows.sort_values(TRIAL).groupby(list(CELL_KEYS), sort=True):
        errors = tuple(sorted({error for error in trials[WRK_ERROR] if error}))
        if trials[WRK_RPS].isna().all() and not errors:
            continue  # wrk was not asked for this cell (not a GET scenario, or no yardstick)
        measured = trials[(trials[WRK_RPS] > 0) & (trials[RPS] > 0)]
        wrk_p99 = measured[WRK_P99].dropna()
        cells.append(
            CellYardstick(
                key=cell_key(dict(zip(CELL_KEYS, keys, strict=True))),
                locust_rps=Spread.of(float(value) for value in trials[RPS]),
                wrk_rps=Spread.of(float(value) for value in measured[WRK_RPS]),
                ratio=Spread.of(float(value) for value in measured[RPS] / measured[WRK_RPS]),
                wrk_p99_ms=float(wrk_p99.median()) if len(wrk_p99) else math.nan,
                errors=errors,
            )
        )
    return cells


LOCUST_TO_WRK = "locust_to_wrk_ratio"  # summary.csv's column of the yardstick (median over the trials)
WRK_RPS_MEDIAN = "wrk_rps_median"


def yardstick_summary(cells: list[CellYardstick]) -> pd.DataFrame:
    """Return one line per cell wrk measured or tried to: CELL_KEYS, wrk's median rps and the ratio."""
    records = [
        {
            **dict(zip(CELL_KEYS, cell.key, strict=True)),
            WRK_RPS_MEDIAN: cell.wrk_rps.median,
            LOCUST_TO_WRK: cell.ratio.median,
        }
        for cell in cells
    ]
    return pd.DataFrame.from_records(records, columns=[*CELL_KEYS, WRK_RPS_MEDIAN, LOCUST_TO_WRK])

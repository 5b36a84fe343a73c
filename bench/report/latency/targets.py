"""The latency target a scenario's sweeps are judged at: a given p99 or a multiple of the apps' unloaded p50,
one per scenario and database. Pure functions of a run's rows (the frame of
bench.report.aggregate.frame_from_rows) and of its metadata; nothing here reads a file.

Rows without a sweep (closed-loop runs, older results) have no target at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bench.columns import APP, DB, ERROR, SCENARIO, SWEEP, UNLOADED_P50
from bench.errors import ConfigError

# The default target: this many times the scenario's unloaded p50 (the median over its apps), one target per
# scenario and database so that every app is judged at the same latency.
TARGET_FACTOR = 10.0

TargetKey = tuple[str, str]  # scenario, db


def has_sweep(frame: pd.DataFrame) -> bool:
    """Return True when some row of the run has an open-loop sweep."""
    return SWEEP in frame and any(bool(steps) for steps in frame[SWEEP])


def sweep_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the rows with a sweep that did not fail (a failed trial's figures are not the app's)."""
    if not has_sweep(frame):
        return frame.iloc[0:0]
    with_sweep = frame[[bool(steps) for steps in frame[SWEEP]]]
    return with_sweep[with_sweep[ERROR] == ""]


def profile_settings(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    """Return the run's profile as metadata.json records it (empty when it does not)."""
    settings = metadata.get("settings") if isinstance(metadata, Mapping) else None
    profile = settings.get("profile") if isinstance(settings, Mapping) else None
    return profile if isinstance(profile, Mapping) else {}


def validate_slo_ms(value: float, *, where: str) -> float:
    """Return value, a p99 target in milliseconds, after checking it is a finite number above zero."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{where} must be a number of milliseconds above 0 (the p99 target); got {value!r}")
    return float(value)


def chosen_slo(override: float | None, metadata: Mapping[str, Any]) -> tuple[float | None, str]:
    """Return the fixed p99 target and where it comes from: the override, else the profile's slo_ms, else
    (None, "") for the default rule."""
    if override is not None:
        return validate_slo_ms(override, where="--slo-ms"), "given with --slo-ms"
    recorded = profile_settings(metadata).get("slo_ms")
    if isinstance(recorded, int | float) and not isinstance(recorded, bool):
        return validate_slo_ms(recorded, where="the profile's slo_ms"), "the profile's slo_ms"
    return None, ""


@dataclass(frozen=True)
class LatencyTarget:
    """The p99 every app of one scenario and database is judged at, and the rule that chose it."""

    ms: float  # NaN: no rule could give one (no unloaded step measured)
    rule: str


def median_unloaded_p50(rows: pd.DataFrame) -> dict[str, float]:
    """Return app -> the median over its trials of the unloaded p50 (apps with none measured left out)."""
    medians = {}
    for app, trials in rows.groupby(APP, sort=True):
        values = pd.to_numeric(trials[UNLOADED_P50], errors="coerce").dropna()
        if len(values):
            medians[str(app)] = float(values.median())
    return medians


def latency_targets(
    frame: pd.DataFrame, *, slo_ms: float | None = None, slo_source: str = ""
) -> dict[TargetKey, LatencyTarget]:
    """Return (scenario, db) -> its target: slo_ms when given, else TARGET_FACTOR x the median over the
    scenario's apps of each app's median unloaded p50."""
    targets = {}
    for (scenario, db), rows in sweep_rows(frame).groupby([SCENARIO, DB], sort=True):
        key = (str(scenario), str(db))
        if slo_ms is not None:
            targets[key] = LatencyTarget(slo_ms, f"{slo_source or 'given'} (one target for every scenario)")
            continue
        by_app = median_unloaded_p50(rows)
        if not by_app:
            targets[key] = LatencyTarget(math.nan, "no target: no unloaded step was measured")
            continue
        unloaded = float(np.median(list(by_app.values())))
        apps = ", ".join(f"{app} {value:.3g}" for app, value in by_app.items())
        rule = (
            f"{TARGET_FACTOR:g} × {unloaded:.3g} ms, the median over the apps of their median unloaded p50 "
            f"({apps} ms)"
        )
        targets[key] = LatencyTarget(TARGET_FACTOR * unloaded, rule)
    return targets

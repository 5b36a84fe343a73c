"""Synthetic open-loop sweeps for the report's tests: SweepStep dicts as the runner saves them in a row's
`sweep`, and rows of tests.bench.synthetic_run that carry one.

A step's figures are whatever a test says; by default it served its whole offered rate without a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, replace
from typing import Any

from bench.results import (
    RECOVERY_PHASE,
    SWEEP_PHASE,
    UNLOADED_PHASE,
    WARMUP_PHASE,
    ResultRow,
    SweepStep,
)

SHARES = (0.25, 0.5, 0.75, 0.9, 1.0, 1.25)
STEP_S = 2.0
SLICES = 8
RECOVERY_SHARE = 0.5
PROFILE: dict[str, Any] = {
    "name": "latency",
    "warmup_s": 1.0,
    "sweep": list(SHARES),
    "step_s": STEP_S,
    "recovery_share": RECOVERY_SHARE,
    "open_timeout_s": 2.0,
    "slo_ms": None,
    "yardstick": True,
}


def step(
    share: float,
    *,
    peak: float,
    p99: float | None,
    phase: str = SWEEP_PHASE,
    achieved: float = 1.0,  # share of the offered rate served
    failures: int = 0,
    timeouts: int = 0,
    behind: bool = False,
    slices: Sequence[float | None] | None = None,
    uncorrected_p99: float | None = None,
) -> dict[str, Any]:
    """Return one step as a saved row holds it."""
    offered = share * peak
    planned = round(offered * STEP_S)
    return asdict(
        SweepStep(
            phase=phase,
            share=share,
            offered_rps=offered,
            duration_s=STEP_S,
            planned=planned,
            requests=planned,
            failures=failures,
            timeouts=timeouts,
            achieved_rps=achieved * offered,
            p50_ms=None if p99 is None else p99 / 3,
            p99_ms=p99,
            p999_ms=None if p99 is None else p99 * 1.5,
            max_ms=None if p99 is None else p99 * 2,
            uncorrected_p50_ms=None if p99 is None else p99 / 4,
            uncorrected_p99_ms=uncorrected_p99 if uncorrected_p99 is not None else (p99 and p99 / 2),
            generator_cpu_util=0.3,
            generator_behind=behind,
            slice_s=STEP_S / SLICES,
            slice_p99_ms=list(slices if slices is not None else [p99] * SLICES),
        )
    )


def sweep(
    *,
    peak: float,
    p99s: Sequence[float | None],
    unloaded_p50: float = 2.0,
    recovery_slices: Sequence[float | None] = (5.0,) * SLICES,
    shares: Sequence[float] = SHARES,
    changes: dict[float, dict[str, Any]] | None = None,
    recovery: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Return a whole sweep: warm-up, unloaded, one step per share with p99s[i], recovery; changes maps a
    share to what differs in its step (achieved, failures, behind, ...), recovery what differs in the
    recovery step."""
    changes = changes or {}
    steps = [
        step(0.25, peak=peak, p99=unloaded_p50 * 3, phase=WARMUP_PHASE, behind=True),  # never reported
        step(0.05, peak=peak, p99=unloaded_p50 * 2, phase=UNLOADED_PHASE),
    ]
    steps[1]["p50_ms"] = unloaded_p50
    steps += [
        step(share, peak=peak, p99=p99, **changes.get(share, {}))
        for share, p99 in zip(shares, p99s, strict=True)
    ]
    recovery_p99 = max((p99 for p99 in recovery_slices if p99 is not None), default=None)
    steps.append(
        step(
            RECOVERY_SHARE,
            peak=peak,
            p99=recovery_p99,
            phase=RECOVERY_PHASE,
            slices=recovery_slices,
            **(recovery or {}),
        )
    )
    return steps


def hockey_stick(unloaded_p50: float) -> Callable[[float], float]:
    """Return share -> p99: flat near the unloaded latency, then steeply up past ~80% of the peak."""
    return lambda share: unloaded_p50 * (1 + 20 * share**6)


def one_outlier(p99s: Sequence[float | None], *, at: int, p99: float) -> list[float | None]:
    """Return the p99s with the step at index `at` replaced by one hiccup: a p99 that fits no trend."""
    return [p99 if index == at else value for index, value in enumerate(p99s)]


def with_sweep(row: ResultRow, steps: list[dict[str, Any]]) -> ResultRow:
    """Return the row carrying the sweep, with the row-level fields the runner derives from it."""
    unloaded = next(s["p50_ms"] for s in steps if s["phase"] == UNLOADED_PHASE)
    behind = any(s["generator_behind"] for s in steps if s["phase"] != WARMUP_PHASE)
    return replace(row, sweep=steps, open_users=32, unloaded_p50_ms=unloaded, generator_behind=behind)


def with_sweeps(
    rows: Iterable[ResultRow],
    *,
    scenarios: Iterable[str] | None = None,
    unloaded_p50: Callable[[ResultRow], float] = lambda row: 2.0,
) -> list[ResultRow]:
    """Return rows with a hockey-stick sweep on each row of the scenarios (default: all) at its own rps."""
    chosen = None if scenarios is None else set(scenarios)
    swept = []
    for row in rows:
        if chosen is None or row.scenario in chosen:
            p50 = unloaded_p50(row)
            curve = hockey_stick(p50)
            row = with_sweep(row, sweep(peak=row.rps, p99s=[curve(s) for s in SHARES], unloaded_p50=p50))
        swept.append(row)
    return swept

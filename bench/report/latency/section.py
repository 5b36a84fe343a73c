"""The report's open-loop section as plain, formatted data: what templates/latency.html.j2 lays out, and the
capacity line the comparison table's performance row quotes. Pure functions of the cells' figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.report.charts import Chart
from bench.report.latency.cells import CapacityStanding, CellKey, CellSweep, Spread
from bench.report.latency.targets import (
    TARGET_FACTOR,
    LatencyTarget,
    TargetKey,
    profile_settings,
)
from bench.report.latency.trials import (
    ABOVE,
    BELOW,
    KNEE_FACTOR,
    MAX_FAILURE_SHARE,
    MIN_ACHIEVED_SHARE,
    Overload,
)
from bench.report.rows import ordered_scenarios
from bench.report.table import format_ms, format_rate
from bench.report.yardstick import CellYardstick

NONE = "–"


@dataclass(frozen=True)
class OverloadFigures:
    """The overload step of a cell, formatted: each figure the median over its trials."""

    share: str  # of the closed-loop rate, e.g. "125%"
    served: str  # of the offered rate, then of the closed-loop rate: "82% (103%)"
    p99: str
    failed: str  # failures, then timeouts, as shares of its requests: "0.4% / 0.1%"


@dataclass(frozen=True)
class CapacityLine:
    """One line of the capacity table: one cell, every figure formatted."""

    app: str
    server: str
    db: str
    scenario: str
    target: str
    peak: str
    capacity: str
    of_peak: str
    spread: str
    knee: str
    overload: OverloadFigures
    recovery: str
    trials: str
    ties: str
    behind: bool  # the load generator fell behind in a step the capacity was decided on


@dataclass(frozen=True)
class YardstickLine:
    app: str
    server: str
    db: str
    scenario: str
    locust: str
    wrk: str
    ratio: str
    note: str


@dataclass(frozen=True)
class LatencySection:
    """What the open-loop section shows."""

    steps: str  # what a cell's sweep ran, in words
    overload_share: str  # the overload step's share of the closed-loop rate, e.g. "125%"
    fixed_target: str  # "" when each scenario's target is TARGET_FACTOR x its unloaded p50
    targets: list[tuple[str, str, str]]  # (scenario, db, the target and its rule)
    charts: list[Chart]
    capacity: list[CapacityLine]
    standings: list[tuple[str, str]]  # (scenario on db, which cells the run can tell apart)
    yardstick: list[YardstickLine]
    yardstick_note: str
    definitions: dict[str, str]  # the thresholds the text quotes, formatted


def _share(value: float) -> str:
    return NONE if not math.isfinite(value) else f"{value:.0%}"


def _range(spread: Spread, formatter: Callable[[float], str] = format_rate) -> str:
    """Return "820 [790-850]": the median and, where the trials differ, the lowest and highest."""
    if spread.count == 0:
        return NONE
    text, low, high = formatter(spread.median), formatter(spread.low), formatter(spread.high)
    return text if low == high else f"{text} [{low}–{high}]"


def _some(count: int, total: int, what: str) -> str:
    return f"{count} of {total} trials {what}"


def capacity_text(cell: CellSweep) -> str:
    """Return the cell's capacity at its target: "820 [790-850]", "< 130" (the first step was already over
    it), "≥ 1,260" (no step was), marked when the load generator fell behind."""
    if not math.isfinite(cell.target.ms):
        return "no target"
    capacity, total = cell.capacity, len(cell.trials)
    below, above = cell.bounded(BELOW), cell.bounded(ABOVE)
    if below == total:
        text = f"{BELOW} {format_rate(capacity.high)} (over the target from the lowest step)"
    elif above == total:
        text = f"{ABOVE} {format_rate(capacity.low)} (under the target up to the highest step)"
    else:
        text = _range(capacity)
        notes = [_some(below, total, "below the lowest step")] if below else []
        notes += [_some(above, total, "at or above the highest step")] if above else []
        text += f" ({'; '.join(notes)})" if notes else ""
    if cell.behind:  # its latency was partly the generator's: the server's capacity is at least that
        text = text if text.startswith((ABOVE, BELOW)) else f"{ABOVE} {text}"
        text += f"; the load generator fell behind in {cell.behind} of {total} trials"
    return text


def _of_peak(cell: CellSweep) -> str:
    total = len(cell.trials)
    bound = next((bound for bound in (BELOW, ABOVE) if total and cell.bounded(bound) == total), "")
    share = _share(cell.capacity_of_peak.median)
    return f"{bound} {share}" if bound and share != NONE else share


def spread_text(cell: CellSweep) -> str:
    """Return how far the cell's trials disagree on its capacity: (max - min) / median."""
    if cell.capacity.count < 2:
        return "one trial: noise unknown"
    if cell.bounded(BELOW) or cell.bounded(ABOVE):
        return "unknown: some trials outside the sweep's range"
    return f"{cell.capacity.relative:.0%}"


def knee_text(cell: CellSweep) -> str:
    """Return the cell's knee: the median rate of its trials' knees and its share of the peak."""
    total = len(cell.trials)
    if cell.knee_bounded(BELOW) == total:
        return f"before the first step ({format_rate(cell.knee.low)})"
    if cell.knee_bounded(ABOVE) == total:
        return f"not reached: {ABOVE} {format_rate(cell.knee.low)}, the highest step"
    # The knee is a step: its share of the peak is the trials' one, or the steps they differ on.
    low, high = _share(cell.knee_of_peak.low), _share(cell.knee_of_peak.high)
    text = f"{format_rate(cell.knee.median)} ({low if low == high else f'{low}–{high}'} of peak)"
    notes = []
    if below := cell.knee_bounded(BELOW):
        notes.append(_some(below, total, "before the first step"))
    if above := cell.knee_bounded(ABOVE):
        notes.append(_some(above, total, "not reached"))
    return text + (f"; {', '.join(notes)}" if notes else "")


def overload_figures(cell: CellSweep) -> OverloadFigures:
    """Return the cell's overload step, each figure the median over its trials."""
    overloads = cell.overloads
    if not overloads:
        return OverloadFigures(NONE, "no step above the closed-loop rate", NONE, NONE)

    def median_of(figure: Callable[[Overload], float]) -> float:
        return Spread.of(figure(overload) for overload in overloads).median

    p99 = median_of(lambda o: o.p99_ms)
    bounded = any(o.p99_lower_bound for o in overloads)  # failures counted at the timeout are in it
    served = f"{_share(median_of(lambda o: o.of_offered))} ({_share(median_of(lambda o: o.of_peak))})"
    if behind := sum(o.behind for o in overloads):
        served += f"; the load generator fell behind in {behind} of {len(overloads)} trials"
    return OverloadFigures(
        share=_share(median_of(lambda o: o.share)),
        served=served,
        p99=NONE if not math.isfinite(p99) else f"{ABOVE + ' ' if bounded else ''}{format_ms(p99)}",
        failed=f"{median_of(lambda o: o.failure_share):.1%} / {median_of(lambda o: o.timeout_share):.1%}",
    )


def recovery_text(cell: CellSweep) -> str:
    """Return how long the cell took to recover after the overload step, and that step's failures."""
    recoveries = cell.recoveries
    if not recoveries:
        return "not measured" if math.isfinite(cell.target.ms) else "no target"
    step_s = recoveries[0].step_s
    stuck = sum(not r.recovered for r in recoveries)
    failures = sum(r.failures for r in recoveries)
    requests = sum(r.requests for r in recoveries)
    failed = f"; {failures} failed ({failures / requests:.1%})" if failures and requests else ""
    if stuck == len(recoveries):
        return f"did not recover within the {step_s:g} s step{failed}"
    seconds = cell.recovery_s
    text = (
        "never over the target" if seconds.high == 0 else f"{_range(seconds, lambda value: f'{value:.1f}')} s"
    )
    if stuck:
        text += f"; {_some(stuck, len(recoveries), f'did not recover within the {step_s:g} s step')}"
    return text + failed


def ties_text(cell: CellSweep, standing: CapacityStanding) -> str:
    """Return the cells of its standing the run cannot tell this one apart from, or why it is not judged."""
    if cell.label in standing.unjudged:
        return standing.unjudged[cell.label]
    tied = standing.tied.get(cell.label, [])
    others = sum(len(group) for group in standing.groups) - 1
    if not others:
        return "no other cell judged here"
    return f"≈ {', '.join(tied)}" if tied else "apart"


def target_text(target: LatencyTarget) -> str:
    """Return "p99 ≤ 28.5 ms: 10 x 2.85 ms, ..." (the rule alone when there is no target)."""
    return f"p99 ≤ {format_ms(target.ms)} ms: {target.rule}" if math.isfinite(target.ms) else target.rule


def _scenario_text(key: CellKey, several_users: bool) -> str:
    return f"{key[2]} ({key[3]} users)" if several_users else key[2]


def capacity_line(
    cell: CellSweep, standing: CapacityStanding, *, several_users: bool = False
) -> CapacityLine:
    """Return the cell's line of the capacity table."""
    app, server, _, _, db = cell.key
    return CapacityLine(
        app=app,
        server=server,
        db=db,
        scenario=_scenario_text(cell.key, several_users),
        target=NONE if not math.isfinite(cell.target.ms) else format_ms(cell.target.ms),
        peak=format_rate(cell.peak.median),  # its spread is the "Every cell" table's
        capacity=capacity_text(cell),
        of_peak=_of_peak(cell),
        spread=spread_text(cell),
        knee=knee_text(cell),
        overload=overload_figures(cell),
        recovery=recovery_text(cell),
        trials=str(len(cell.trials)),
        ties=ties_text(cell, standing),
        behind=bool(cell.behind),
    )


def _report_order(
    keys: Iterable[CellKey], databases: Sequence[str]
) -> Callable[[CellKey], tuple[int, int, int]]:
    """Return the sort key of the report's order: database (PostgreSQL first), scenario, users."""
    scenarios = ordered_scenarios(key[2] for key in keys)
    return lambda key: (
        databases.index(key[4]) if key[4] in databases else len(databases),
        scenarios.index(key[2]),
        key[3],
    )


def _ordered(cells: Sequence[CellSweep], databases: Sequence[str]) -> list[CellSweep]:
    """Return the cells in the report's order, the highest capacity first within a scenario."""
    order = _report_order((cell.key for cell in cells), databases)
    return sorted(
        cells,
        key=lambda cell: (
            order(cell.key),
            -cell.capacity.median if math.isfinite(cell.capacity.median) else math.inf,
            cell.label,
        ),
    )


def rates_shared(cells: Sequence[CellSweep]) -> bool:
    """Return True when the apps measured together (a scenario, user count and database) were offered the same
    rates, as runs since the shared grid do; False for a run of one app per scenario or older runs."""
    groups: dict[tuple[Any, ...], list[tuple[float, ...]]] = {}
    for cell in cells:
        key = (cell.key[2], cell.key[3], cell.key[4])
        groups.setdefault(key, []).append(tuple(point.offered_rps for point in cell.curve))
    together = [rates for rates in groups.values() if len(rates) > 1]

    def same(first: tuple[float, ...], other: tuple[float, ...]) -> bool:
        return len(first) == len(other) and all(
            math.isclose(a, b, rel_tol=1e-9) for a, b in zip(first, other, strict=True)
        )

    return bool(together) and all(same(rates[0], other) for rates in together for other in rates[1:])


def steps_text(profile: Mapping[str, Any], cells: Sequence[CellSweep]) -> str:
    """Return what each cell's sweep ran, from the run's profile (or, in older metadata, its steps)."""
    shares = profile.get("sweep") or (
        [point.share for point in cells[0].curve] if cells and cells[0].curve else []
    )
    listed = ", ".join(f"{float(share):.0%}" for share in shares)
    shared = rates_shared(cells)
    if listed and shared:
        low, high = min(map(float, shares)), max(map(float, shares))
        text = (
            f"offered every app of a scenario the same rates: {listed} spread evenly from {low:.0%} of the "
            f"slowest app's closed-loop rate to {high:.0%} of the fastest's"
        )
    else:
        text = f"offered {listed} of the cell's own closed-loop rate" if listed else "offered shares of it"
    if profile.get("step_s"):
        text += f", {float(profile['step_s']):g} s each"
    if profile.get("recovery_share"):
        of_whom = " of the slowest's" if shared else ""
        text += f", then a recovery step at {float(profile['recovery_share']):.0%}{of_whom}"
    if profile.get("open_timeout_s"):
        text += f"; a request unanswered after {float(profile['open_timeout_s']):g} s is a timeout"
    return text


def yardstick_lines(cells: Sequence[CellYardstick], *, several_users: bool = False) -> list[YardstickLine]:
    """Return the yardstick table's lines, in the order of the cells given."""
    lines = []
    for cell in cells:
        app, server, _, _, db = cell.key
        note = "; ".join(cell.errors)
        if cell.measured and math.isfinite(cell.wrk_p99_ms):
            note = "; ".join(part for part in (f"wrk p99 {format_ms(cell.wrk_p99_ms)} ms", note) if part)
        lines.append(
            YardstickLine(
                app=app,
                server=server,
                db=db,
                scenario=_scenario_text(cell.key, several_users),
                locust=_range(cell.locust_rps),
                wrk=_range(cell.wrk_rps) if cell.measured else "did not measure",
                ratio=_range(cell.ratio, lambda value: f"{value:.2f}") if cell.measured else NONE,
                note=note,
            )
        )
    return lines


def yardstick_note(
    profile: Mapping[str, Any], cells: Sequence[CellSweep], yardsticks: Sequence[CellYardstick]
) -> str:
    """Return what the yardstick table leaves out and why."""
    if not yardsticks:
        if profile.get("yardstick") is False:
            return "The run's profile did not ask for the wrk yardstick (yardstick = false)."
        return "wrk measured no cell of this run."
    measured = {cell.key[2] for cell in yardsticks}
    without = ordered_scenarios({cell.key[2] for cell in cells} - measured)
    if not without:
        return ""
    return (
        f"wrk did not run for {', '.join(without)}: only scenarios of one GET request (their YARDSTICK_PATH) "
        "can be replayed by wrk."
    )


def build_latency_section(
    *,
    cells: Sequence[CellSweep],
    targets: Mapping[TargetKey, LatencyTarget],
    standings: Mapping[tuple[str, str, int], CapacityStanding],
    yardsticks: Sequence[CellYardstick],
    charts: Sequence[Chart],
    metadata: Mapping[str, Any],
    databases: Sequence[str],
    fixed_target: str,
) -> LatencySection:
    """Return the open-loop section of a run (fixed_target: where a fixed slo_ms came from, "" for none)."""
    profile = profile_settings(metadata)
    ordered = _ordered(cells, databases)
    scenarios = ordered_scenarios(scenario for scenario, _ in targets)

    def place(scenario: str, db: str) -> tuple[int, int]:
        return (databases.index(db) if db in databases else len(databases), scenarios.index(scenario))

    target_order = sorted(targets, key=lambda key: place(*key))
    by_scenario = sorted(standings, key=lambda key: (*place(key[0], key[1]), key[2]))
    several_users = len({key[2] for key in standings}) > 1
    keys = [cell.key for cell in yardsticks]
    capacity = [
        capacity_line(cell, standings[cell.key[2], cell.key[4], cell.key[3]], several_users=several_users)
        for cell in ordered
    ]
    return LatencySection(
        steps=steps_text(profile, ordered),
        overload_share=", ".join(
            sorted({line.overload.share for line in capacity if line.overload.share != NONE})
        ),
        fixed_target=fixed_target,
        targets=[(scenario, db, target_text(targets[scenario, db])) for scenario, db in target_order],
        charts=list(charts),
        capacity=capacity,
        standings=[
            (f"{scenario} on {db}" + (f", {users} users" if several_users else ""), standing.text)
            for scenario, db, users in by_scenario
            if (standing := standings[scenario, db, users]).text
        ],
        yardstick=yardstick_lines(
            sorted(yardsticks, key=lambda cell: (_report_order(keys, databases)(cell.key), cell.key)),
            several_users=len({cell.key[3] for cell in yardsticks}) > 1,
        ),
        yardstick_note=yardstick_note(profile, cells, yardsticks),
        definitions={
            "factor": f"{TARGET_FACTOR:g}",
            "achieved": f"{MIN_ACHIEVED_SHARE:.0%}",
            "failures": f"{MAX_FAILURE_SHARE:.0%}",
            "knee": f"{KNEE_FACTOR:g}",
        },
    )

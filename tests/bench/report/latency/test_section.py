"""bench/report/latency/section.py: the open-loop section's figures in words, and the comparison table's
capacity line."""

from __future__ import annotations

import math

from bench.report.latency.cells import CapacityStanding, CellSweep, CurvePoint, Spread
from bench.report.latency.section import (
    capacity_text,
    knee_text,
    overload_figures,
    rates_shared,
    recovery_text,
    spread_text,
    steps_text,
    ties_text,
    yardstick_note,
)
from bench.report.latency.targets import (
    LatencyTarget,
)
from bench.report.latency.trials import (
    ABOVE,
    BELOW,
    Bounded,
    Overload,
    Recovery,
    TrialSweep,
)
from bench.report.yardstick import CellYardstick
from tests.bench.report.synthetic_sweep import PROFILE

TARGET = LatencyTarget(12.0, "p99 ≤ 12 ms, given with --slo-ms")
KNEE = Bounded(500.0)


def trial(
    capacity: Bounded,
    *,
    knee: Bounded = KNEE,
    behind: bool = False,
    overload: Overload | None = None,
    recovery: Recovery | None = None,
) -> TrialSweep:
    return TrialSweep(0, 1000.0, capacity, knee, overload, recovery, behind)


def cell(
    *trials: TrialSweep, scenario: str = "db", target: LatencyTarget = TARGET, app: str = "flask"
) -> CellSweep:
    return CellSweep((app, "gunicorn", scenario, 32, "postgres"), app, target, tuple(trials), ())


def test_capacity_in_words() -> None:
    assert capacity_text(cell(trial(Bounded(820.0)), trial(Bounded(790.0)), trial(Bounded(850.0)))) == (
        "820 [790–850]"
    )
    assert capacity_text(cell(trial(Bounded(250.0, BELOW)), trial(Bounded(250.0, BELOW)))).startswith("< 250")
    assert capacity_text(cell(trial(Bounded(1250.0, ABOVE)))).startswith("≥ 1,250 (under the target up to")
    mixed = capacity_text(cell(trial(Bounded(900.0)), trial(Bounded(1250.0, ABOVE)), trial(Bounded(950.0))))
    assert mixed == "950 [900–1,250] (1 of 3 trials at or above the highest step)"
    behind = capacity_text(cell(trial(Bounded(820.0), behind=True), trial(Bounded(800.0))))
    assert behind == "≥ 810 [800–820]; the load generator fell behind in 1 of 2 trials"
    assert (
        capacity_text(cell(trial(Bounded(math.nan)), target=LatencyTarget(math.nan, "none"))) == "no target"
    )


def test_the_spread_says_how_sure_the_run_is() -> None:
    assert spread_text(cell(trial(Bounded(900.0)), trial(Bounded(1000.0)), trial(Bounded(1100.0)))) == "20%"
    assert spread_text(cell(trial(Bounded(900.0)))) == "one trial: noise unknown"
    assert spread_text(cell(trial(Bounded(900.0)), trial(Bounded(1250.0, ABOVE)))).startswith("unknown")


def test_the_knee_in_words() -> None:
    assert knee_text(cell(trial(Bounded(0.0), knee=Bounded(750.0)))) == "750 (75% of peak)"
    assert knee_text(cell(trial(Bounded(0.0), knee=Bounded(250.0, BELOW)))) == "before the first step (250)"
    assert knee_text(cell(trial(Bounded(0.0), knee=Bounded(1250.0, ABOVE)))).startswith(
        "not reached: ≥ 1,250"
    )
    two = knee_text(cell(trial(Bounded(0.0), knee=Bounded(750.0)), trial(Bounded(0.0), knee=Bounded(900.0))))
    assert two == "825 (75%–90% of peak)", "the trials' knees at different steps"


def overload(**changes: object) -> Overload:
    figures = dict(
        share=1.25, offered_rps=1250.0, achieved_rps=1000.0, peak_rps=1000.0, p99_ms=455.0, requests=2500,
        failures=25, timeouts=5, behind=False,
    )  # fmt: skip
    figures.update(changes)
    return Overload(**figures)  # type: ignore[arg-type]


def test_the_overload_step_in_figures() -> None:
    figures = overload_figures(cell(trial(Bounded(0.0), overload=overload())))
    assert (figures.share, figures.served, figures.p99, figures.failed) == (
        "125%",
        "80% (100%)",
        "455",
        "1.0% / 0.2%",
    )
    behind = overload_figures(cell(trial(Bounded(0.0), overload=overload(behind=True))))
    assert behind.served.endswith("the load generator fell behind in 1 of 1 trials")
    assert overload_figures(cell(trial(Bounded(0.0)))).served == "no step above the closed-loop rate"
    timed_out = overload(p99_ms=2000.0, p99_lower_bound=True)
    assert overload_figures(cell(trial(Bounded(0.0), overload=timed_out))).p99 == "≥ 2000"


def test_the_recovery_in_words() -> None:
    def recovery(seconds: float | None, failures: int = 0) -> TrialSweep:
        return trial(Bounded(0.0), recovery=Recovery(seconds, 2.0, 1000, failures, False))

    assert recovery_text(cell(recovery(0.0), recovery(0.0))) == "never over the target"
    assert recovery_text(cell(recovery(0.5), recovery(0.75), recovery(1.0))) == "0.8 [0.5–1.0] s"
    assert (
        recovery_text(cell(recovery(None, failures=20)))
        == "did not recover within the 2 s step; 20 failed (2.0%)"
    )
    assert recovery_text(cell(recovery(0.5), recovery(None))) == (
        "0.5 s; 1 of 2 trials did not recover within the 2 s step"
    )
    assert recovery_text(cell(trial(Bounded(0.0)))) == "not measured"


def test_ties_in_words() -> None:
    standing = CapacityStanding([["flask", "django"], ["fastapi"]], {"other": "fewer than two trials"}, {
        "flask": ["django"], "django": ["flask"], "fastapi": []
    })  # fmt: skip
    assert ties_text(cell(app="flask"), standing) == "≈ django"
    assert ties_text(cell(app="fastapi"), standing) == "apart"
    assert ties_text(cell(app="other"), standing) == "fewer than two trials"
    alone = CapacityStanding([["flask"]], {}, {"flask": []})
    assert ties_text(cell(app="flask"), alone) == "no other cell judged here"


def test_what_the_sweep_ran_comes_from_the_profile_or_the_steps() -> None:
    assert steps_text(PROFILE, []) == (
        "offered 25%, 50%, 75%, 90%, 100%, 125% of the cell's own closed-loop rate, 2 s each, then a "
        "recovery step at 50%; a request unanswered after 2 s is a timeout"
    )
    point = CurvePoint(0.5, 500.0, 500.0, 1.0, 2.0, 3.0, 1.0, False)
    older = CellSweep(("flask", "gunicorn", "db", 32, "sqlite"), "flask", TARGET, (), (point,))
    assert steps_text({}, [older]) == "offered 50% of the cell's own closed-loop rate"


def test_apps_offered_the_same_rates_are_said_to_be() -> None:
    def cell(app: str, *rates: float, scenario: str = "db") -> CellSweep:
        points = tuple(CurvePoint(0.5, rate, rate, 1.0, 2.0, 3.0, 1.0, False) for rate in rates)
        return CellSweep((app, "s", scenario, 32, "postgres"), app, TARGET, (), points)

    together = [
        cell("flask", 100.0, 300.0),
        cell("django", 100.0, 300.0),
        cell("flask", 50.0, scenario="api"),
    ]
    assert rates_shared(together)
    assert steps_text(PROFILE, together) == (
        "offered every app of a scenario the same rates: 25%, 50%, 75%, 90%, 100%, 125% spread evenly from "
        "25% of the slowest app's closed-loop rate to 125% of the fastest's, 2 s each, then a recovery step "
        "at 50% of the slowest's; a request unanswered after 2 s is a timeout"
    )
    # Each app at shares of its own peak (runs before the shared grid), or one app alone: not shared.
    assert not rates_shared([cell("flask", 100.0, 300.0), cell("django", 90.0, 270.0)])
    assert not rates_shared([cell("flask", 100.0, 300.0)])


def test_the_yardstick_note_says_what_wrk_left_out() -> None:
    swept = [cell(trial(Bounded(1.0)), scenario="db"), cell(trial(Bounded(1.0)), scenario="api")]
    measured = CellYardstick(swept[0].key, Spread.of([1.0]), Spread.of([2.0]), Spread.of([0.5]), 1.0, ())
    assert yardstick_note(PROFILE, swept, [measured]).startswith("wrk did not run for api: only scenarios")
    assert yardstick_note({**PROFILE, "yardstick": False}, swept, []).endswith("(yardstick = false).")
    assert yardstick_note({}, swept, []) == "wrk measured no cell of this run."

"""bench/gate/instructions/decision.py on synthetic instruction counts: a 2% change, no change, a change under
the minimum effect, windows too spread to judge, a garbage-collection window, and the grown functions."""

from __future__ import annotations

import math

import pytest

from bench.gate.decisions import Verdict
from bench.gate.instructions.decision import (
    Window,
    compare_instructions,
    decide_instructions,
    grown_functions,
    mean_per_request,
    ratio_interval,
)
from bench.gate.instructions.dumps import CallgrindDump, FunctionCost, FunctionKey

CONFIDENCE = 1 - 2 * 0.05 / 6
STEADY = [2_327_000.0, 2_326_800.0, 2_327_200.0, 2_330_300.0, 2_326_900.0]  # Flask /db windows here


def scaled(values: list[float], factor: float) -> list[float]:
    return [value * factor for value in values]


def judge(a: list[float], b: list[float], min_effect: float = 0.01) -> Verdict:
    return compare_instructions(a, b, min_effect=min_effect, confidence=CONFIDENCE).verdict


def test_a_two_percent_change_is_worse() -> None:
    assert judge(STEADY, scaled(STEADY[::-1], 1.02)) is Verdict.WORSE


def test_a_two_percent_saving_is_better() -> None:
    assert judge(STEADY, scaled(STEADY, 0.98)) is Verdict.BETTER


def test_the_same_windows_are_unchanged() -> None:
    comparison = compare_instructions(STEADY, STEADY[::-1], min_effect=0.01, confidence=CONFIDENCE)
    assert comparison.verdict is Verdict.UNCHANGED
    assert comparison.change == pytest.approx(0.0)


def test_a_real_change_under_the_minimum_effect_is_unchanged() -> None:
    assert judge(STEADY, scaled(STEADY, 1.005)) is Verdict.UNCHANGED


def test_windows_spread_wider_than_the_effect_are_inconclusive() -> None:
    spread = [2.0e6, 2.1e6, 2.2e6, 2.3e6, 2.4e6]
    comparison = compare_instructions(spread, scaled(spread, 1.02), min_effect=0.01, confidence=CONFIDENCE)
    assert comparison.verdict is Verdict.INCONCLUSIVE
    assert "spread" in comparison.reason


def test_one_garbage_collection_window_per_side_moves_no_verdict() -> None:
    # An old-generation collection: a quarter more instructions in one window (Django /db here).
    a = [*STEADY[:4], STEADY[4] * 1.24]
    b = scaled([STEADY[0] * 1.24, *STEADY[1:]], 1.02)
    assert judge(a, b) is Verdict.WORSE
    assert judge(a, [STEADY[0] * 1.24, *STEADY[1:]]) is Verdict.UNCHANGED


def test_one_window_a_side_cannot_be_judged() -> None:
    comparison = compare_instructions(STEADY[:1], STEADY[:1], min_effect=0.01, confidence=CONFIDENCE)
    assert comparison.verdict is Verdict.INCONCLUSIVE
    assert comparison.ci_low is None


def test_the_interval_holds_the_ratio_of_the_medians() -> None:
    interval = ratio_interval(STEADY, scaled(STEADY, 1.1), confidence=CONFIDENCE)
    assert interval.low < math.log(1.1) < interval.high
    assert interval.estimate == pytest.approx(math.log(1.1))


def test_identical_windows_give_a_point_interval_and_a_clear_verdict() -> None:
    interval = ratio_interval([100.0, 100.0], [103.0, 103.0], confidence=CONFIDENCE)
    assert interval.low == interval.high == pytest.approx(math.log(1.03))
    assert decide_instructions(interval, min_effect=0.01)[0] is Verdict.WORSE


def window(requests: int, functions: dict[FunctionKey, tuple[int, int]]) -> Window:
    costs = {
        key: FunctionCost(self_instructions=s, inclusive_instructions=i) for key, (s, i) in functions.items()
    }
    return Window(
        requests=requests, dump=CallgrindDump(total=sum(s for s, _ in functions.values()), functions=costs)
    )


EVAL = FunctionKey("python", "_PyEval_EvalFrameDefault")
STEP = FunctionKey("libsqlite3", "sqlite3_step")
ESCAPE = FunctionKey("markupsafe", "escape_unicode")


def test_per_request_divides_the_total_by_the_requests() -> None:
    assert window(10, {EVAL: (1000, 1000)}).per_request == 100


def test_grown_functions_rank_by_growth_of_their_own_instructions() -> None:
    a = mean_per_request([window(10, {EVAL: (1000, 3000), STEP: (500, 500)})] * 2)
    b = mean_per_request([window(10, {EVAL: (1100, 4200), STEP: (900, 900), ESCAPE: (50, 50)})] * 2)
    grown = grown_functions(a, b, top=2)
    assert [g.key for g in grown] == [STEP, EVAL]
    assert grown[0].growth == pytest.approx(40.0)
    assert grown[1].a_inclusive == pytest.approx(300.0)


def test_functions_that_shrank_are_not_listed() -> None:
    a = mean_per_request([window(1, {EVAL: (100, 100)})])
    b = mean_per_request([window(1, {EVAL: (90, 90)})])
    assert grown_functions(a, b, top=5) == []

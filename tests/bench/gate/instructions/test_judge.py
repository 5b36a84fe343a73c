"""bench/gate/instructions/judge.py: every cell judged at a confidence shared out over the cells, or at the
confidence asked for."""

from __future__ import annotations

import pytest

from bench.gate.decisions import Verdict
from bench.gate.instructions.judge import judge_cells
from bench.gate.settings import InstructionDefaults
from tests.bench.synthetic_instructions import JSON, noisy_cells


def test_the_confidence_is_shared_out_over_the_cells_counted_on_both_sides() -> None:
    report = judge_cells(noisy_cells(), settings=InstructionDefaults(), false_alarm_rate=0.05)
    assert report.confidence == pytest.approx(1 - 2 * 0.05 / 2)
    assert report.missing == (JSON,)  # no B side: not counted in the correction
    assert {v.comparison.verdict for v in report.verdicts} == {Verdict.UNCHANGED}


def test_a_confidence_given_replaces_the_shared_one() -> None:
    report = judge_cells(
        noisy_cells(), settings=InstructionDefaults(), false_alarm_rate=0.05, confidence=0.999
    )
    assert report.confidence == 0.999
    assert {v.comparison.verdict for v in report.verdicts} == {Verdict.INCONCLUSIVE}
    low, high = report.verdicts[0].comparison.ci_low, report.verdicts[0].comparison.ci_high
    assert low is not None and high is not None and high - low > 0.04  # wider than twice the 2% effect

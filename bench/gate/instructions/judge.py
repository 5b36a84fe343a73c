"""The verdicts of an instructions run: every cell judged, the grown functions of the worse ones. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.gate.decisions import Verdict
from bench.gate.instructions.decision import (
    GrownFunction,
    InstructionComparison,
    Window,
    compare_instructions,
    grown_functions,
    mean_per_request,
)
from bench.gate.instructions.records import InstructionCell
from bench.gate.samples import VARIANT_A, VARIANT_B
from bench.gate.settings import InstructionDefaults


@dataclass(frozen=True)
class InstructionVerdict:
    cell: InstructionCell
    comparison: InstructionComparison
    grown: tuple[GrownFunction, ...]  # for a cell judged worse: the functions that grew most


@dataclass(frozen=True)
class InstructionReport:
    """Every cell of an instructions run judged."""

    settings: InstructionDefaults
    confidence: float
    verdicts: tuple[InstructionVerdict, ...]
    missing: tuple[InstructionCell, ...]  # cells without windows on a side

    @property
    def regressions(self) -> list[InstructionVerdict]:
        return [v for v in self.verdicts if v.comparison.verdict is Verdict.WORSE]

    @property
    def inconclusive(self) -> list[InstructionVerdict]:
        return [v for v in self.verdicts if v.comparison.verdict is Verdict.INCONCLUSIVE]

    @property
    def failed(self) -> bool:
        return bool(self.regressions)

    @property
    def judged(self) -> bool:
        return any(v.comparison.verdict is not Verdict.INCONCLUSIVE for v in self.verdicts)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {
            "mode": "instructions",
            "failed": self.failed,
            "judged": self.judged,
            "confidence": self.confidence,
            "settings": asdict(self.settings),
            "regressions": len(self.regressions),
            "inconclusive": len(self.inconclusive),
            "cells": [
                {
                    "cell": asdict(v.cell),
                    **{key: value for key, value in asdict(v.comparison).items() if key != "verdict"},
                    "verdict": v.comparison.verdict.value,
                    "grown_functions": [
                        {**asdict(g.key), "a_self": g.a_self, "b_self": g.b_self, "growth": g.growth}
                        for g in v.grown
                    ],
                }
                for v in self.verdicts
            ],
            "missing": [asdict(cell) for cell in self.missing],
        }


def judge_cells(
    cells: Mapping[InstructionCell, Mapping[str, Sequence[Window]]],
    *,
    settings: InstructionDefaults,
    false_alarm_rate: float,
    confidence: float | None = None,
) -> InstructionReport:
    """Return the verdict of every cell, at a confidence shared out over the cells (Bonferroni), or at the
    confidence given (`--confidence`: e.g. a check of one cell judged as strictly as the full check's six)."""
    complete = {cell: sides for cell, sides in cells.items() if sides.get(VARIANT_A) and sides.get(VARIANT_B)}
    if confidence is None:
        confidence = 1 - 2 * false_alarm_rate / max(1, len(complete))
    verdicts = []
    for cell, sides in sorted(complete.items()):
        a, b = sides[VARIANT_A], sides[VARIANT_B]
        comparison = compare_instructions(
            [w.per_request for w in a],
            [w.per_request for w in b],
            min_effect=settings.min_effect,
            confidence=confidence,
        )
        grown: list[GrownFunction] = []
        if comparison.verdict is Verdict.WORSE:
            grown = grown_functions(mean_per_request(a), mean_per_request(b), top=settings.top_functions)
        verdicts.append(InstructionVerdict(cell=cell, comparison=comparison, grown=tuple(grown)))
    return InstructionReport(
        settings=settings,
        confidence=confidence,
        verdicts=tuple(verdicts),
        missing=tuple(sorted(set(cells) - set(complete))),
    )

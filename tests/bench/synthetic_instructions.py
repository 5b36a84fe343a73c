"""Synthetic instruction counts: each side's windows of a few cells, as an instructions run records them.

Imported by tests/bench/gate/instructions/test_judge.py and tests/bench/cli/test_check.py.
"""

from __future__ import annotations

from bench.gate.instructions.decision import Window
from bench.gate.instructions.dumps import CallgrindDump
from bench.gate.instructions.records import InstructionCell

DB = InstructionCell(app="django", server="gunicorn", scenario="db")
FORTUNES = InstructionCell(app="django", server="gunicorn", scenario="fortunes")
JSON = InstructionCell(app="django", server="gunicorn", scenario="json")
# Windows that move about 0.7% (robust spread), as Django's /db windows do here: within the 2% minimum effect
# at the confidence of a check of two cells, too spread to bound at 99.9%.
NOISY = [1_000_000, 1_005_000, 995_000, 1_010_000, 990_000]


def windows(totals: list[int]) -> list[Window]:
    return [Window(requests=1, dump=CallgrindDump(total=total, functions={})) for total in totals]


def noisy_cells() -> dict[InstructionCell, dict[str, list[Window]]]:
    """Return two cells counted on both sides, the same within their spread, and one without a B side."""
    return {
        DB: {"A": windows(NOISY), "B": windows(NOISY[::-1])},
        FORTUNES: {"A": windows(NOISY), "B": windows(NOISY)},
        JSON: {"A": windows(NOISY)},
    }

"""instructions.json: the counted windows of an instructions run, per cell and side, to and from JSON. Pure.

A dump holds thousands of functions; a window keeps its total and the functions with the most instructions
of their own (KEPT_FUNCTIONS), which hold nearly all of them: what the grown-functions list needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.errors import CheckInputError
from bench.gate.instructions.decision import Window
from bench.gate.instructions.dumps import CallgrindDump, FunctionCost, FunctionKey

INSTRUCTIONS_FILE = "instructions.json"
KEPT_FUNCTIONS = 400
FORMAT_VERSION = 1


@dataclass(frozen=True, order=True)
class InstructionCell:
    """A cell of an instructions run: one app's server variant on one scenario's GET request."""

    app: str
    server: str
    scenario: str

    @property
    def label(self) -> str:
        return f"{self.app}/{self.server} {self.scenario}"


def window_to_dict(window: Window, *, kept: int = KEPT_FUNCTIONS) -> dict[str, Any]:
    """Return a window as JSON-ready data, with its `kept` functions of most self instructions."""
    functions = sorted(window.dump.functions.items(), key=lambda item: -item[1].self_instructions)[:kept]
    return {
        "requests": window.requests,
        "total": window.dump.total,
        "functions": [
            [key.package, key.function, cost.self_instructions, cost.inclusive_instructions]
            for key, cost in functions
        ],
    }


def window_from_dict(data: Mapping[str, Any]) -> Window:
    """Return the window that window_to_dict wrote."""
    try:
        functions = {
            FunctionKey(package=str(package), function=str(name)): FunctionCost(
                self_instructions=int(own), inclusive_instructions=int(inclusive)
            )
            for package, name, own, inclusive in data.get("functions", ())
        }
        return Window(
            requests=int(data["requests"]),
            dump=CallgrindDump(total=int(data["total"]), functions=functions),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckInputError(f"{INSTRUCTIONS_FILE}: a window is malformed ({exc})") from None


def cells_to_dict(
    cells: Mapping[InstructionCell, Mapping[str, Sequence[Window]]],
) -> list[dict[str, Any]]:
    """Return the cells (each side's windows) as JSON-ready data."""
    return [
        {
            "app": cell.app,
            "server": cell.server,
            "scenario": cell.scenario,
            "sides": {side: [window_to_dict(w) for w in windows] for side, windows in sides.items()},
        }
        for cell, sides in sorted(cells.items())
    ]


def cells_from_dict(data: Sequence[Mapping[str, Any]]) -> dict[InstructionCell, dict[str, list[Window]]]:
    """Return the cells that cells_to_dict wrote."""
    cells: dict[InstructionCell, dict[str, list[Window]]] = {}
    for item in data:
        try:
            cell = InstructionCell(app=item["app"], server=item["server"], scenario=item["scenario"])
            sides = item["sides"]
        except (KeyError, TypeError) as exc:
            raise CheckInputError(f"{INSTRUCTIONS_FILE}: a cell is malformed ({exc})") from None
        cells[cell] = {str(side): [window_from_dict(w) for w in windows] for side, windows in sides.items()}
    return cells

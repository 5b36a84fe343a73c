"""Synthetic campaign files for `bench gate-rates --corpus`: checks' JSON written by the real writers.

Imported by tests/bench/gate/test_corpus_rates.py, test_corpus_tables.py, test_corpus_chart.py and
tests/bench/cli/test_gate_rates.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.cli.check import write_instructions_json
from bench.gate.decisions import Verdict, compare_pairs
from bench.gate.instructions.decision import InstructionComparison
from bench.gate.instructions.judge import InstructionReport, InstructionVerdict
from bench.gate.instructions.records import InstructionCell
from bench.gate.samples import collect_pairs
from bench.gate.settings import METRICS, GateSettings, InstructionDefaults
from bench.gate.verdicts import CheckOutcome, write_json
from tests.bench.synthetic_gate import ab_rows, dicts, noisy

# A manifest of three patches: sizes 0.8% (-> 1%), 3% (-> 2%), two cells at 27% and 16.8% (-> 20%).
CHANGES: dict[str, dict[str, float]] = {
    "django-sort": {"django/gunicorn fortunes": 0.008},
    "flask-helper": {"flask/gunicorn db": 0.03},
    "fastapi-middleware": {"fastapi/uvicorn-sync db": 0.27, "fastapi/uvicorn-sync fortunes": 0.168},
}
MANIFEST_TOML = """
[[change]]
patch = "django-sort.patch"
cells = { "django/gunicorn fortunes" = 0.008 }

[[change]]
patch = "flask-helper.patch"
cells = { "flask/gunicorn db" = 0.03 }

[[change]]
patch = "fastapi-middleware.patch"
cells = { "fastapi/uvicorn-sync db" = 0.27, "fastapi/uvicorn-sync fortunes" = 0.168 }
"""
ALL_CELLS = [label for cells in CHANGES.values() for label in cells]


def _cell(label: str) -> InstructionCell:
    app_server, scenario = label.split(" ")
    app, server = app_server.split("/")
    return InstructionCell(app=app, server=server, scenario=scenario)


def instruction_report(cells: Mapping[str, tuple[Verdict, float]]) -> InstructionReport:
    """Return an instructions check whose cells (labels) got these verdicts and changes."""
    verdicts = tuple(
        InstructionVerdict(
            cell=_cell(label),
            comparison=InstructionComparison(
                verdict=verdict,
                reason="synthetic",
                a_per_request=2_000_000.0,
                b_per_request=2_000_000.0 * (1 + change),
                change=change,
                ci_low=change - 0.002,
                ci_high=change + 0.002,
                spread=0.001,
                windows=(5, 5),
            ),
            grown=(),
        )
        for label, (verdict, change) in cells.items()
    )
    return InstructionReport(settings=InstructionDefaults(), confidence=0.99, verdicts=verdicts, missing=())


def write_instructions(path: Path, cells: Mapping[str, tuple[Verdict, float]]) -> Path:
    """Write an instructions check's JSON as `bench check --mode instructions --json` does."""
    write_instructions_json(instruction_report(cells), path, run_dir=Path("reports/synthetic"))
    return path


def write_wallclock(path: Path, slower: Mapping[str, float]) -> Path:
    """Write a wall-clock A/B check's JSON (8 pairs a cell, CV 2%, B slower by the share given)."""
    rows = []
    for seed, (label, share) in enumerate(slower.items()):
        cell = _cell(label)
        rows += ab_rows(
            a_cpu_ms=noisy(0.5, 8, seed=seed),
            b_cpu_ms=[value * (1 + share) for value in noisy(0.5, 8, seed=seed + 100)],
            app=cell.app,
            server=cell.server,
            scenario=cell.scenario,
        )
    report = compare_pairs(collect_pairs(dicts(rows), metrics=METRICS), settings=GateSettings())
    write_json(CheckOutcome(report=report, run_dir=Path("reports/synthetic")), path)
    return path


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data

"""bench/gate/markdown.py and the instructions run's records: a judged run written as JSON, read back, judged
and shown as Markdown (verdict table, grown functions), and the step summary the CLI appends to."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bench.cli.check import STEP_SUMMARY_ENV, write_markdown
from bench.gate.decisions import Verdict
from bench.gate.instructions.decision import Window
from bench.gate.instructions.dumps import CallgrindDump, FunctionCost, FunctionKey
from bench.gate.instructions.judge import judge_cells
from bench.gate.instructions.records import InstructionCell, cells_from_dict, cells_to_dict
from bench.gate.markdown import instructions_markdown
from bench.gate.settings import InstructionDefaults

DB = InstructionCell(app="flask", server="gunicorn", scenario="db")
FORTUNES = InstructionCell(app="flask", server="gunicorn", scenario="fortunes")
EVAL = FunctionKey("python", "_PyEval_EvalFrameDefault")
HELPER = FunctionKey("python", "long_to_decimal_string_internal")


def window(total: int, helper: int) -> Window:
    functions = {
        EVAL: FunctionCost(self_instructions=total - helper, inclusive_instructions=total),
        HELPER: FunctionCost(self_instructions=helper, inclusive_instructions=helper),
    }
    return Window(requests=10, dump=CallgrindDump(total=total, functions=functions))


def counted() -> dict[InstructionCell, dict[str, list[Window]]]:
    steady = [23_270_000, 23_268_000, 23_272_000, 23_290_000, 23_269_000]
    return {
        DB: {"A": [window(t, 27_000) for t in steady], "B": [window(t + 690_000, 717_000) for t in steady]},
        FORTUNES: {"A": [window(t, 0) for t in steady], "B": [window(t, 0) for t in steady[::-1]]},
    }


def test_the_records_round_trip_through_json() -> None:
    cells = counted()
    again = cells_from_dict(json.loads(json.dumps(cells_to_dict(cells))))
    assert again == cells


def test_a_three_percent_change_fails_with_the_function_that_grew() -> None:
    report = judge_cells(counted(), settings=InstructionDefaults(), false_alarm_rate=0.05)
    verdicts = {v.cell: v for v in report.verdicts}
    assert verdicts[DB].comparison.verdict is Verdict.WORSE
    assert verdicts[FORTUNES].comparison.verdict is Verdict.UNCHANGED
    assert verdicts[DB].grown[0].key == HELPER
    assert report.failed


def test_the_markdown_has_the_outcome_the_table_and_the_grown_functions() -> None:
    report = judge_cells(counted(), settings=InstructionDefaults(), false_alarm_rate=0.05)
    text = instructions_markdown(report, title="Performance gate", notes=["a note"])
    assert text.startswith("## Performance gate\n")
    assert "**FAIL: 1 regression(s)" in text
    assert "> a note" in text
    assert "| flask/gunicorn db | 2.327 M | 2.396 M | +2.97% |" in text
    assert "❌ worse" in text
    assert "### flask/gunicorn db: what grew" in text
    assert "| `long_to_decimal_string_internal` | python | 2,700 | 71,700 | +69,000 |" in text


def test_the_markdown_goes_to_the_file_and_is_appended_to_the_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv(STEP_SUMMARY_ENV, str(summary))
    write_markdown(argparse.Namespace(markdown=tmp_path / "out" / "gate.md"), "## gate\n")
    assert (tmp_path / "out" / "gate.md").read_text() == "## gate\n"
    assert summary.read_text() == "earlier step\n## gate\n"


def test_without_a_step_summary_only_the_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(STEP_SUMMARY_ENV, raising=False)
    write_markdown(argparse.Namespace(markdown=None), "## gate\n")
    assert list(tmp_path.iterdir()) == []

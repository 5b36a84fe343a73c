"""bench/cli/check.py: a saved instructions run judged again, at the confidence `--confidence` asks for."""

from __future__ import annotations

import json
from pathlib import Path

from bench.cli import main
from bench.errors import EXIT_OK, EXIT_USAGE
from bench.gate.instructions.records import INSTRUCTIONS_FILE, cells_to_dict
from tests.bench.synthetic_instructions import noisy_cells


def saved_run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "20261208-020000-instructions-ci"
    run_dir.mkdir()
    (run_dir / INSTRUCTIONS_FILE).write_text(
        json.dumps({"cells": cells_to_dict(noisy_cells())}), encoding="utf-8"
    )
    return run_dir


def test_a_saved_instructions_run_is_judged_at_the_confidence_given(tmp_path: Path) -> None:
    run_dir = saved_run(tmp_path)
    shared, strict = tmp_path / "shared.json", tmp_path / "strict.json"
    assert main(["check", str(run_dir), "--json", str(shared)]) == EXIT_OK
    # At 99.9% the windows' 0.7% spread cannot be bounded within 2%: nothing judged, exit 2.
    assert main(["check", str(run_dir), "--confidence", "0.999", "--json", str(strict)]) == EXIT_USAGE
    before, after = (json.loads(path.read_text(encoding="utf-8")) for path in (shared, strict))
    assert before["confidence"] == 0.95 and after["confidence"] == 0.999
    assert {cell["verdict"] for cell in before["cells"]} == {"unchanged"}
    assert {cell["verdict"] for cell in after["cells"]} == {"inconclusive"}

"""bench/run/lifecycle.py: the run folder, reports/latest, and metadata.json's status however the run ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.results import LATEST_LINK, METADATA_FILE, RESULTS_FILE, ResultRow, read_metadata, read_rows
from bench.run.lifecycle import new_run_dir, recorded_run


def test_run_directory_and_latest_link(tmp_path: Path) -> None:
    first = new_run_dir(tmp_path, "run")
    second = new_run_dir(tmp_path, "run")
    assert (first.name, second.name) == ("run", "run-2")
    assert (tmp_path / LATEST_LINK).resolve() == second.resolve()


def test_a_completed_run_says_so_and_keeps_its_rows(tmp_path: Path) -> None:
    with recorded_run(reports_dir=tmp_path, run_id="r", metadata={"profile": "p"}) as run:
        assert read_metadata(run.run_dir / METADATA_FILE)["status"] == "running"
        assert run.logs_dir.is_dir()
        run.append(ResultRow(app="a", server="s", scenario="json", users=1, trial=1))
    metadata = read_metadata(run.run_dir / METADATA_FILE)
    assert (metadata["status"], metadata["run_id"], metadata["profile"]) == ("complete", "r", "p")
    assert metadata["started_at"] <= metadata["finished_at"]
    assert [row["app"] for row in read_rows(run.run_dir / RESULTS_FILE)] == ["a"]


def test_a_failed_run_records_the_error(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError),
        recorded_run(reports_dir=tmp_path, run_id="r", metadata={}) as run,
    ):
        raise RuntimeError("the disk is full")
    assert read_metadata(run.run_dir / METADATA_FILE)["status"] == "failed: RuntimeError: the disk is full"


def test_an_interrupted_run_says_interrupted(tmp_path: Path) -> None:
    with (
        pytest.raises(KeyboardInterrupt),
        recorded_run(reports_dir=tmp_path, run_id="r", metadata={}) as run,
    ):
        raise KeyboardInterrupt
    assert read_metadata(run.run_dir / METADATA_FILE)["status"] == "interrupted"

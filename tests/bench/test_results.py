"""bench/results.py: finding a saved run by path, by id or as the latest, and saying what exists when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import RunNotFoundError
from bench.results import RESULTS_FILE, find_run_dir
from tests.bench.synthetic_run import synthetic_rows, write_run


def test_find_run_dir_by_id_path_or_latest(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "20250101-120000", synthetic_rows(scenarios=("json",)))
    (tmp_path / "latest").symlink_to(run_dir)
    assert find_run_dir(None, reports_dir=tmp_path) == run_dir
    assert find_run_dir("20250101-120000", reports_dir=tmp_path) == run_dir
    assert find_run_dir(str(run_dir), reports_dir=tmp_path / "elsewhere") == run_dir


def test_find_run_dir_explains_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(RunNotFoundError, match="make bench"):
        find_run_dir(None, reports_dir=tmp_path)
    with pytest.raises(RunNotFoundError, match=r"nope.*none"):
        find_run_dir("nope", reports_dir=tmp_path)
    write_run(tmp_path / "20250101-120000", synthetic_rows(scenarios=("json",)))
    with pytest.raises(RunNotFoundError, match="20250101-120000"):
        find_run_dir("other", reports_dir=tmp_path)


def test_the_error_lists_the_newest_runs_only_and_not_the_latest_link(tmp_path: Path) -> None:
    for day in range(1, 13):
        write_run(tmp_path / f"202501{day:02d}-120000", synthetic_rows(scenarios=("json",)))
    (tmp_path / "latest").symlink_to(tmp_path / "20250112-120000")
    with pytest.raises(RunNotFoundError) as caught:
        find_run_dir("other", reports_dir=tmp_path)
    message = str(caught.value)
    assert "4 older ones and 20250105-120000" in message and message.endswith("20250112-120000)")
    assert "latest," not in message and ", latest" not in message


def test_a_folder_without_results_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunNotFoundError, match="empty"):
        find_run_dir("empty", reports_dir=tmp_path)
    (tmp_path / "empty" / RESULTS_FILE).write_text("")
    assert find_run_dir("empty", reports_dir=tmp_path) == tmp_path / "empty"

"""bench/gate/baseline.py: save and load, pooled runs, and refusal on another machine or other package
versions."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bench.columns import CPU_MS_PER_REQUEST, RPS
from bench.errors import BaselineError, EnvironmentMismatch, RunNotFoundError
from bench.gate.baseline import (
    BASELINE_FORMAT,
    BASELINES_DIR,
    build_baseline,
    default_baseline_path,
    environment_differences,
    environment_fingerprint,
    load_baseline,
    save_baseline,
)
from bench.gate.samples import CellKey, collect_samples
from bench.gate.settings import METRICS
from bench.results import read_run
from tests.bench.synthetic_gate import METADATA, dicts, metadata, noisy, trial_rows, write_run

CELL = CellKey(app="fastapi", server="uvicorn", scenario="json", users=32)


def saved(tmp_path: Path, *runs: Path, force: bool = False) -> Path:
    document = build_baseline([(run, *read_run(run)) for run in runs], name="quick", force=force)
    return save_baseline(document, tmp_path / "baselines" / "quick.json")


def test_save_and_load_keep_every_valid_sample(tmp_path: Path) -> None:
    rows = trial_rows(cpu_ms=noisy(0.5, 4), generator_bound=(4,))
    run = write_run(tmp_path / "run", rows)
    baseline = load_baseline(saved(tmp_path, run))
    assert baseline.cells == collect_samples(dicts(rows), metrics=METRICS)
    samples = baseline.cells[CELL]
    assert len(samples.values[CPU_MS_PER_REQUEST]) == 3 and len(samples.values[RPS]) == 3
    assert (samples.trials, samples.generator_bound) == (4, 1)
    assert baseline.environment["machine.cpu_model"] == "Synthetic CPU @ 2.0GHz"
    assert baseline.environment["package.fastapi"] == "0.120.0"
    assert baseline.runs[0]["commit"] == "0123456789abcdef"
    stored = json.loads(baseline.path.read_text())
    assert stored["format"] == BASELINE_FORMAT and stored["metadata"]["profile"] == "quick"


def test_several_runs_pool_their_trials(tmp_path: Path) -> None:
    first = write_run(tmp_path / "one", trial_rows(cpu_ms=noisy(0.5, 3, seed=1)))
    second = write_run(tmp_path / "two", trial_rows(cpu_ms=noisy(0.5, 3, seed=2)))
    baseline = load_baseline(saved(tmp_path, first, second))
    assert len(baseline.cells[CELL].values[CPU_MS_PER_REQUEST]) == 6
    assert baseline.cells[CELL].trials == 6 and len(baseline.runs) == 2


def test_runs_from_different_machines_are_not_pooled(tmp_path: Path) -> None:
    first = write_run(tmp_path / "one", trial_rows(cpu_ms=noisy(0.5, 3)))
    other = write_run(
        tmp_path / "two", trial_rows(cpu_ms=noisy(0.5, 3)), metadata(**{"machine.logical_cpus": 8})
    )
    with pytest.raises(BaselineError, match=r"machine\.logical_cpus: baseline 2, this run 8"):
        saved(tmp_path, first, other)


def test_a_run_without_metadata_is_no_baseline_unless_forced(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", trial_rows(cpu_ms=noisy(0.5, 3)), meta=None)
    with pytest.raises(BaselineError, match=r"no metadata\.json"):
        saved(tmp_path, run)
    assert load_baseline(saved(tmp_path, run, force=True)).cells


def test_another_machine_is_refused_with_the_differences(tmp_path: Path) -> None:
    baseline = load_baseline(saved(tmp_path, write_run(tmp_path / "run", trial_rows(cpu_ms=noisy(0.5, 3)))))
    elsewhere = metadata(**{"machine.cpu_model": "Other CPU", "settings.server_cpus": [0, 1]})
    with pytest.raises(EnvironmentMismatch) as refused:
        baseline.check_environment(elsewhere)
    message = str(refused.value)
    assert "machine.cpu_model: baseline Synthetic CPU @ 2.0GHz, this run Other CPU" in message
    assert "cpus.server_cpus: baseline [0], this run [0, 1]" in message
    assert "--force" in message


def test_other_package_versions_are_refused(tmp_path: Path) -> None:
    baseline = load_baseline(saved(tmp_path, write_run(tmp_path / "run", trial_rows(cpu_ms=noisy(0.5, 3)))))
    upgraded = metadata(**{"apps.fastapi.framework_version": "0.121.0", "python.version": "3.11.9"})
    with pytest.raises(EnvironmentMismatch) as refused:
        baseline.check_environment(upgraded)
    assert refused.value.differences == [
        "package.fastapi: baseline 0.120.0, this run 0.121.0",
        "python.version: baseline 3.11.2, this run 3.11.9",
    ]


def test_force_compares_anyway_and_says_so_loudly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    baseline = load_baseline(saved(tmp_path, write_run(tmp_path / "run", trial_rows(cpu_ms=noisy(0.5, 3)))))
    with caplog.at_level(logging.WARNING):
        differences = baseline.check_environment(metadata(**{"machine.cpu_model": "Other CPU"}), force=True)
    assert differences == ["machine.cpu_model: baseline Synthetic CPU @ 2.0GHz, this run Other CPU"]
    assert "FORCED" in caplog.text


def test_the_same_environment_and_a_subset_of_apps_pass(tmp_path: Path) -> None:
    baseline = load_baseline(saved(tmp_path, write_run(tmp_path / "run", trial_rows(cpu_ms=noisy(0.5, 3)))))
    fastapi_only = metadata()
    del fastapi_only["apps"]["flask"]
    assert baseline.check_environment(fastapi_only) == []
    assert baseline.check_environment(metadata(**{"machine.hostname": "ci-2"})) == []  # another CI container


def test_a_run_without_metadata_cannot_be_checked(tmp_path: Path) -> None:
    baseline = load_baseline(saved(tmp_path, write_run(tmp_path / "run", trial_rows(cpu_ms=noisy(0.5, 3)))))
    with pytest.raises(EnvironmentMismatch, match=r"no metadata\.json"):
        baseline.check_environment(None)


def test_fingerprint_flattens_versions_of_apps_servers_and_drivers() -> None:
    fingerprint = environment_fingerprint(METADATA)
    assert fingerprint["package.gunicorn"] == "23.0.0"
    assert fingerprint["package.flask-sqlalchemy"] == "3.1.1"
    assert fingerprint["database.sqlite"] == "3.40.1"
    assert "machine.hostname" not in fingerprint
    assert environment_differences({"package.x": "1"}, {"package.y": "2"}) == []


def test_missing_and_foreign_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="bench baseline save"):
        load_baseline(tmp_path / "nope.json")
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"cells": []}')
    with pytest.raises(BaselineError, match="not a baseline"):
        load_baseline(foreign)
    with pytest.raises(RunNotFoundError, match=r"results\.jsonl"):
        read_run(tmp_path)


def test_default_path_is_named_after_the_profile() -> None:
    assert default_baseline_path(METADATA) == BASELINES_DIR / "quick.json"
    assert default_baseline_path(None).parent == BASELINES_DIR

"""bench/report/versions.py: the versions section from a saved run's files."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from bench.report.versions import (
    COLUMNS,
    STEPS_FILE,
    environment_cells,
    versions_markdown,
    versions_table,
    write_versions_report,
)
from bench.results import METADATA_FILE, RESULTS_FILE


def environment(label: str, **extra: Any) -> dict[str, Any]:
    app, release, python = label.split()
    record = {
        "label": label,
        "app": app,
        "release": release,
        "python": python.removeprefix("py"),
        "status": "ok",
        "contract": "passed",
        "framework_version": f"{release}.9",
        "packages": {app: f"{release}.9", "werkzeug": "3.1.3"},
    }
    return record | extra


ENVIRONMENTS = [
    environment("flask 3.1 py3.12"),
    environment("flask 2.3 py3.12"),
    environment("flask 3.1 py3.11", status="incompatible: resolver conflict: no", contract="not checked"),
]


def rows() -> list[dict[str, Any]]:
    result = []
    for label, cpu in (("flask 2.3 py3.12", 0.5), ("flask 3.1 py3.12", 0.4)):
        for trial in (1, 2, 3):
            result.append(
                {
                    "app": "flask",
                    "server": "gunicorn",
                    "scenario": "db",
                    "users": 32,
                    "trial": trial,
                    "db": "postgres",
                    "variant": label,
                    "requests": 2000,
                    "duration_s": 2.0,
                    "rps": 1000.0 + trial,
                    "cpu_ms_per_request": cpu + trial / 1000,
                    "server_cpu_s": 1.0,
                }
            )
    return result


def test_each_environment_is_a_cell_of_its_own_and_an_incompatible_one_keeps_its_row() -> None:
    table = versions_table(environment_cells(rows()), environments=ENVIRONMENTS, scenarios=["db"])
    assert list(table.columns) == list(COLUMNS)
    assert list(table["environment"]) == ["flask 2.3 py3.12", "flask 3.1 py3.11", "flask 3.1 py3.12"]
    by_label = table.set_index("environment")
    assert by_label.loc["flask 2.3 py3.12", "cpu_ms_per_request"] == 0.502
    assert by_label.loc["flask 3.1 py3.12", "cpu_ms_per_request"] == 0.402
    assert by_label.loc["flask 3.1 py3.12", "valid_trials"] == 3
    incompatible = by_label.loc["flask 3.1 py3.11"]
    assert incompatible["status"] == "incompatible: resolver conflict: no"
    assert math.isnan(incompatible["rps"])


def test_the_markdown_gives_the_steps_as_sentences_and_the_figures_per_scenario_and_framework() -> None:
    table = versions_table(environment_cells(rows()), environments=ENVIRONMENTS, scenarios=["db"])
    steps = [
        {"app": "flask", "scenario": "db", "metric": "cpu_ms_per_request", "sentence": "3.1: -20% CPU"},
        {"app": "flask", "scenario": "db", "metric": "rps", "sentence": "3.1: +0% req/s"},
    ]
    versions = {"pythons": ["3.11", "3.12"], "release_python": "3.12", "missing_pythons": ["3.13"]}
    text = versions_markdown(table, steps=steps, versions=versions | {"environments": ENVIRONMENTS})
    assert "### db: flask\n\n- 3.1: -20% CPU\n- 3.1: +0% req/s\n" in text
    assert "not found: 3.13" in text
    assert "## db: flask" in text
    assert "| flask 3.1 py3.11 | 3.1.9 | - | - | 0 | incompatible: resolver conflict: no |" in text
    assert "werkzeug 3.1.3" in text


def test_the_files_are_written_from_the_saved_run(tmp_path: Path) -> None:
    (tmp_path / RESULTS_FILE).write_text("".join(json.dumps(row) + "\n" for row in rows()))
    metadata = {
        "settings": {"profile": {"scenarios": ["db"]}},
        "versions": {"pythons": ["3.12"], "release_python": "3.12", "environments": ENVIRONMENTS},
    }
    (tmp_path / METADATA_FILE).write_text(json.dumps(metadata))
    (tmp_path / STEPS_FILE).write_text("[]")
    files = write_versions_report(tmp_path)
    csv = pd.read_csv(files.csv)
    assert len(csv) == 3
    assert "## db: flask" in files.markdown.read_text()
    assert "<pre" in files.html.read_text()

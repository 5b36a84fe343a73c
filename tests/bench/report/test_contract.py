"""bench/report/contract.py: the contract evidence file, and the pytest plugin (tests/contract/recorder.py)
that writes it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.config import ROOT
from bench.report.contract import FORMAT_VERSION, merge_contract_file, read_contract_evidence, row_of_module
from bench.report.rows import OTHER_ROW


def test_rows_are_guessed_from_module_names() -> None:
    assert row_of_module("test_api_auth") == "authentication"
    assert row_of_module("test_api_items") == "validation"
    assert row_of_module("test_performance") == "performance"
    assert row_of_module("test_io") == "async"
    assert row_of_module("test_admin") == "admin"
    assert row_of_module("test_html_forms") == "forms"
    assert row_of_module("test_openapi_docs") == "docs"
    assert row_of_module("test_bad_input") == "validation"
    assert row_of_module("test_schemathesis") == "docs"
    assert row_of_module("test_fortunes") == "templates"
    assert row_of_module("test_seed_data") == "orm"
    assert row_of_module("test_production_settings") == OTHER_ROW


def test_merge_replaces_only_what_ran(tmp_path: Path) -> None:
    path = tmp_path / "contract.json"
    counts = {"passed": 3, "failed": 0, "skipped": 0, "failed_tests": []}
    merge_contract_file(path, {("flask", "sqlite"): {"orm": counts}}, commit="old")
    merge_contract_file(path, {("django", "sqlite"): {"orm": counts}}, commit="new")
    merge_contract_file(path, {("flask", "sqlite"): {"forms": counts}}, commit="newer")
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT_VERSION
    assert set(data["apps"]) == {"flask", "django"}
    assert set(data["apps"]["flask"]["sqlite"]["rows"]) == {"forms"}
    assert data["apps"]["flask"]["sqlite"]["commit"] == "newer"
    evidence = read_contract_evidence(tmp_path / "absent.json", path)
    assert evidence is not None and evidence.path == path
    assert evidence.outcome("django", ("orm",)).passed == 3
    assert evidence.outcome("django", ("forms",)).ran == 0
    assert evidence.outcome("nobody").ran == 0


def test_unreadable_or_foreign_files_are_no_evidence(tmp_path: Path) -> None:
    broken, foreign = tmp_path / "broken.json", tmp_path / "foreign.json"
    broken.write_text("{not json")
    foreign.write_text(json.dumps({"format": 99, "apps": {}}))
    assert read_contract_evidence(broken, foreign) is None


FAKE_CONTRACT_SUITE = """
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Target:
    app: str
    database: str


TARGETS = [Target("flask", "sqlite"), Target("django", "postgres")]


@pytest.fixture(params=TARGETS, ids=lambda target: f"{target.app}-{target.database}")
def app_server(request):
    return request.param


def test_token(app_server):
    assert app_server.app == "flask"


@pytest.mark.table_row("Data validation")
def test_items(app_server):
    pass


@pytest.fixture
def broken_setup():
    raise RuntimeError("no server")


def test_setup_error(app_server, broken_setup):
    pass


def test_not_parametrized():
    pass
"""


def test_plugin_writes_outcomes_per_app_database_and_row(tmp_path: Path) -> None:
    (tmp_path / "test_api_auth.py").write_text(FAKE_CONTRACT_SUITE)
    evidence_path = tmp_path / "contract.json"
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    options = [
        "--contract-status",
        str(evidence_path),
        "--rootdir",
        str(tmp_path),
        "-c",
        os.devnull,
        str(tmp_path),
    ]
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.contract.recorder",
            *options,
        ],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr  # two tests fail on purpose
    data = json.loads(evidence_path.read_text())
    flask = data["apps"]["flask"]["sqlite"]["rows"]
    django = data["apps"]["django"]["postgres"]["rows"]
    assert flask["authentication"]["passed"] == 1 and flask["authentication"]["failed"] == 1, (
        "setup error fails"
    )
    assert flask["validation"]["passed"] == 1
    assert django["authentication"]["failed"] == 2
    assert any("test_token" in name for name in django["authentication"]["failed_tests"])
    assert "other" not in flask, "unparametrized tests belong to no app"

"""Evidence that the contract suite passed, per app and comparison-table row: a small JSON file and the pytest
plugin that writes it.

Write it by running the contract suite with this plugin:

    python -m pytest tests/contract -p bench.contract_status [--contract-status reports/contract.json]

The file (format 1) maps app -> database -> {commit, finished_at, rows: {row: {passed, failed, skipped,
failed_tests}}}. A later partial run (say BENCH_TEST_APPS=flask) replaces only the app and database it ran.
A test's row is the argument of its `@pytest.mark.table_row("orm")` marker, else it is guessed from its module
name (test_api_auth.py -> authentication); its app and database come from the parametrized target fixture.
The report reads reports/<run-id>/contract.json when present, else reports/contract.json.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.config import REPORTS_DIR, ROOT
from bench.table import OTHER_ROW, normalize_row_key

CONTRACT_FILE = "contract.json"
FORMAT_VERSION = 1
DEFAULT_CONTRACT_PATH = REPORTS_DIR / CONTRACT_FILE
OUTCOMES = ("passed", "failed", "skipped")

# A contract test module's name -> its row, by the first word of the name (after "test_") that starts with a
# keyword; the more specific keywords come first ("api_auth" is about authentication, not validation).
MODULE_KEYWORD_ROWS: tuple[tuple[str, str], ...] = (
    ("admin", "admin"),
    ("auth", "authentication"),
    ("login", "authentication"),
    ("session", "authentication"),
    ("doc", "docs"),
    ("openapi", "docs"),
    ("schema", "docs"),  # schemathesis: the API does what its OpenAPI document says
    ("form", "forms"),
    ("csrf", "forms"),
    ("html", "forms"),
    ("io", "async"),
    ("async", "async"),
    ("template", "templates"),
    ("fortune", "templates"),
    ("orm", "orm"),
    ("seed", "orm"),
    ("item", "validation"),
    ("valid", "validation"),
    ("input", "validation"),
    ("perf", "performance"),
)


def row_of_module(module_name: str) -> str:
    """Return the table row a contract test module covers, guessed from its name; OTHER_ROW when unsure."""
    words = module_name.removeprefix("test_").split("_")
    for keyword, row in MODULE_KEYWORD_ROWS:
        if any(word.startswith(keyword) for word in words):
            return row
    return OTHER_ROW


@dataclass(frozen=True)
class RowOutcome:
    """The contract tests of one row for one app, over every database they ran on."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    databases: tuple[str, ...] = ()
    commits: tuple[str, ...] = ()
    failed_tests: tuple[str, ...] = ()

    @property
    def ran(self) -> int:
        return self.passed + self.failed


@dataclass(frozen=True)
class ContractEvidence:
    path: Path
    apps: Mapping[str, Any]

    def outcome(self, app: str, rows: tuple[str, ...] | None = None) -> RowOutcome:
        """Return the summed outcome of the app's tests for these rows (None: every row)."""
        counts = dict.fromkeys(OUTCOMES, 0)
        databases: list[str] = []
        commits: set[str] = set()
        failed_tests: list[str] = []
        for database, entry in sorted(self.apps.get(app, {}).items()):
            touched = False
            for row, row_counts in entry.get("rows", {}).items():
                if rows is not None and row not in rows:
                    continue
                touched = True
                for outcome in OUTCOMES:
                    counts[outcome] += int(row_counts.get(outcome, 0))
                failed_tests.extend(row_counts.get("failed_tests", []))
            if touched:
                databases.append(database)
                commits.add(str(entry.get("commit", "")))
        return RowOutcome(
            passed=counts["passed"],
            failed=counts["failed"],
            skipped=counts["skipped"],
            databases=tuple(databases),
            commits=tuple(sorted(commits)),
            failed_tests=tuple(failed_tests),
        )


def read_contract_evidence(*candidates: Path) -> ContractEvidence | None:
    """Return the first readable contract.json among candidates, or None when there is none."""
    for path in candidates:
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and data.get("format") == FORMAT_VERSION:
            return ContractEvidence(path=path, apps=data.get("apps", {}))
    return None


def current_commit() -> str:
    """Return the checkout's commit, with "-dirty" when it has uncommitted changes; "" outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return commit + ("-dirty" if dirty else "")


# ---- the pytest plugin -------------------------------------------------------------------------------------


def _target_of(item: pytest.Item) -> tuple[str, str] | None:
    """Return (app, database) of a test parametrized over a target with such attributes, else None."""
    callspec = getattr(item, "callspec", None)
    for value in getattr(callspec, "params", {}).values():
        app, database = getattr(value, "app", None), getattr(value, "database", None)
        if isinstance(app, str) and isinstance(database, str):
            return app, database
    return None


class ContractRecorder:
    """Collects each contract test's outcome under its app, database and row; writes them at session end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.targets: dict[str, tuple[str, str, str]] = {}  # nodeid -> (app, database, row)
        self.outcomes: dict[str, str] = {}  # nodeid -> passed, failed or skipped

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            target = _target_of(item)
            if target is None:
                continue
            marker = item.get_closest_marker("table_row")
            module_name = getattr(getattr(item, "module", None), "__name__", "").rpartition(".")[2]
            row = (
                normalize_row_key(str(marker.args[0]))
                if marker and marker.args
                else row_of_module(module_name)
            )
            self.targets[item.nodeid] = (*target, row)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A failed set-up or call fails the test (a failed teardown does not undo a passed call); a skipped
        # set-up skips it.
        if report.nodeid not in self.targets:
            return
        if report.failed and report.when in ("setup", "call"):
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and report.when == "setup":
            self.outcomes[report.nodeid] = "skipped"
        elif report.when == "call" and report.nodeid not in self.outcomes:
            self.outcomes[report.nodeid] = report.outcome

    def counts(self) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
        """Return (app, database) -> row -> {passed, failed, skipped, failed_tests}."""
        counts: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        for nodeid, outcome in sorted(self.outcomes.items()):
            app, database, row = self.targets[nodeid]
            rows = counts.setdefault((app, database), {})
            row_counts = rows.setdefault(row, {"passed": 0, "failed": 0, "skipped": 0, "failed_tests": []})
            row_counts[outcome] += 1
            if outcome == "failed":
                row_counts["failed_tests"].append(nodeid)
        return counts

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        counts = self.counts()
        if counts:
            merge_contract_file(self.path, counts, commit=current_commit())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--contract-status",
        default=str(DEFAULT_CONTRACT_PATH),
        help="where bench.contract_status writes the contract evidence the report reads",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "table_row(name): the comparison-table row a contract test covers")
    recorder = ContractRecorder(Path(config.getoption("--contract-status")))
    config.pluginmanager.register(recorder, "bench-contract-recorder")


def merge_contract_file(
    path: Path, counts: Mapping[tuple[str, str], Mapping[str, Any]], *, commit: str
) -> None:
    """Write counts ((app, database) -> row -> outcome counts) into path, keeping every other entry."""
    existing = read_contract_evidence(path)
    apps: dict[str, dict[str, Any]] = {
        app: dict(dbs) for app, dbs in (existing.apps if existing else {}).items()
    }
    finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    for (app, database), rows in sorted(counts.items()):
        apps.setdefault(app, {})[database] = {"commit": commit, "finished_at": finished_at, "rows": rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT_VERSION, "apps": apps}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")

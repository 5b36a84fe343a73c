"""Evidence that the contract suite passed, per app and comparison-table row: the small JSON file the report
reads, its format and its merging. Nothing here imports pytest.

The contract suite writes it through its pytest plugin (tests/contract/recorder.py, loaded by `make test`):

    python -m pytest tests/contract -p tests.contract.recorder [--contract-status reports/contract.json]

The file (format 1) maps app -> database -> {commit, finished_at, rows: {row: {passed, failed, skipped,
failed_tests}}}. A later partial run (say BENCH_TEST_APPS=flask) replaces only the app and database it ran.
A test's row is the argument of its `@pytest.mark.table_row("orm")` marker, else it is guessed from its module
name (test_api_auth.py -> authentication); its app and database come from the parametrized target fixture.
The report reads reports/<run-id>/contract.json when present, else reports/contract.json.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import REPORTS_DIR
from bench.report.rows import OTHER_ROW

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

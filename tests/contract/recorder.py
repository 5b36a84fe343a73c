"""The contract suite's pytest plugin: each contract test's outcome per app, database and comparison-table
row, merged into reports/contract.json (bench/report/contract.py owns the format) for the report.

`make test` loads it: `python -m pytest -p tests.contract.recorder [--contract-status PATH]`. A test's row is
the argument of its `@pytest.mark.table_row("orm")` marker, else it is guessed from its module name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.report.contract import DEFAULT_CONTRACT_PATH, merge_contract_file, row_of_module
from bench.report.rows import normalize_row_key
from bench.run.metadata import git_state


def checkout_commit() -> str:
    """Return the checkout's commit (12 digits), "-dirty" when it has uncommitted changes; "" outside git."""
    state = git_state()
    commit = str(state["commit"] or "")[:12]
    return commit + ("-dirty" if commit and state["dirty"] else "")


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
            merge_contract_file(self.path, counts, commit=checkout_commit())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--contract-status",
        default=str(DEFAULT_CONTRACT_PATH),
        help="where the contract recorder writes the evidence the report reads",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "table_row(name): the comparison-table row a contract test covers")
    recorder = ContractRecorder(Path(config.getoption("--contract-status")))
    config.pluginmanager.register(recorder, "bench-contract-recorder")

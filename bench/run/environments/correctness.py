"""Correct before measured: the contract suite's tests of the endpoints a profile loads, run on one
environment (its interpreter serves the app) before any of its cells is measured."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.config import ROOT

log = logging.getLogger(__name__)

CONTRACT_DIR = "tests/contract"
# The tests that check what each scenario's requests get (bench/scenarios/<name>.py), by scenario.
CONTRACT_SUBSET: Mapping[str, tuple[str, ...]] = {
    "plaintext": ("test_performance.py::test_plaintext",),
    "json": ("test_performance.py::test_json",),
    "db": ("test_performance.py::test_db_answers_a_row_as_stored",),
    "queries": ("test_performance.py::test_queries_reads_distinct_rows_as_stored",),
    "updates": ("test_performance.py::test_updates_write_every_row_they_answer",),
    "fortunes": (
        "test_fortunes.py::test_fortunes_markup",
        "test_fortunes.py::test_fortunes_are_all_rows_plus_one_sorted_by_message",
        "test_fortunes.py::test_fortunes_are_escaped",
    ),
    "api": (
        "test_api_items.py::test_list_defaults",
        "test_api_items.py::test_read_a_seeded_item",
        "test_api_items.py::test_create_read_replace_delete",
        "test_api_items.py::test_invalid_fields_are_named",
    ),
}
CHECK_TIMEOUT_S = 600.0
SUMMARY_LINES = 4  # of pytest's failure summary kept in the reason


@dataclass(frozen=True)
class ContractCheck:
    """The outcome of one environment's contract subset: passed, or the failure in a few lines."""

    passed: bool
    tests: tuple[str, ...]
    failure: str = ""


def contract_tests(scenarios: Sequence[str]) -> list[str]:
    """Return the contract tests (pytest node ids) of the scenarios, each once; a scenario without a subset
    is checked by its Locust file's own response checks only."""
    nodes = [f"{CONTRACT_DIR}/{test}" for scenario in scenarios for test in CONTRACT_SUBSET.get(scenario, ())]
    return list(dict.fromkeys(nodes))


def failure_summary(output: str) -> str:
    """Return the lines of pytest's output that name what failed (its short summary), else its last lines."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
    return " | ".join((failed or lines)[-SUMMARY_LINES:])


def check_contract(
    *, app: str, server: str, python: str, scenarios: Sequence[str], db: str = "postgres"
) -> ContractCheck:
    """Run the contract subset of the scenarios against the app served by the environment's python."""
    tests = contract_tests(scenarios)
    if not tests:
        return ContractCheck(passed=True, tests=())
    env = {
        **os.environ,
        "BENCH_TEST_APPS": app,
        "BENCH_TEST_DBS": db,
        "BENCH_TEST_SERVERS": server,
        "BENCH_TEST_PYTHON": python,
    }
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", *tests]
    try:
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return ContractCheck(passed=False, tests=tuple(tests), failure=f"over {CHECK_TIMEOUT_S:.0f} s")
    if result.returncode == 0:
        return ContractCheck(passed=True, tests=tuple(tests))
    return ContractCheck(
        passed=False, tests=tuple(tests), failure=failure_summary(result.stdout + result.stderr)
    )

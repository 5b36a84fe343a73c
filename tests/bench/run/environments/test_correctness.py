"""bench/run/environments/correctness.py: which contract tests check an environment."""

from __future__ import annotations

import re

from bench.config import ROOT
from bench.run.environments.correctness import CONTRACT_SUBSET, contract_tests, failure_summary


def test_the_subset_is_the_tests_of_the_profile_s_scenarios_each_once() -> None:
    tests = contract_tests(["db", "json", "db", "mixed"])
    assert tests == [
        "tests/contract/test_performance.py::test_db_answers_a_row_as_stored",
        "tests/contract/test_performance.py::test_json",
    ]


def test_every_test_of_the_subset_exists_in_the_contract_suite() -> None:
    for tests in CONTRACT_SUBSET.values():
        for node in tests:
            module, name = node.split("::")
            source = (ROOT / "tests" / "contract" / module).read_text()
            assert re.search(rf"^def {name}\(", source, re.MULTILINE), node


def test_a_failure_is_summed_up_by_pytest_s_failed_lines() -> None:
    output = "....F\n=== short test summary info ===\nFAILED tests/x.py::test_a - AssertionError\n1 failed\n"
    assert failure_summary(output) == "FAILED tests/x.py::test_a - AssertionError"
    assert failure_summary("collected 0 items\nno tests ran") == "collected 0 items | no tests ran"

"""bench/scenarios/: what each scenario declares, the shared helpers, and every scenario against the apps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.config import ROOT, discover_apps
from bench.errors import ConfigError
from bench.report.rows import TABLE_ROWS
from bench.scenarios import discover_scenarios, read_scenario, scenario_info
from bench.scenarios.common import WriteLog, _LoginCache, html_body, json_body

TABLE_ROW_KEYS = {row.key for row in TABLE_ROWS}  # the comparison table's rows
ISSUE_SCENARIOS = {"plaintext", "json", "db", "queries", "updates", "fortunes", "api", "forms", "auth"}
ISSUE_SCENARIOS |= {"admin", "docs", "io", "mixed", "me", "errors"}
SCENARIO_MIN_REQUESTS = 10


def test_every_workload_of_the_issue_has_a_scenario() -> None:
    assert set(discover_scenarios()) == ISSUE_SCENARIOS


def test_each_scenario_declares_a_table_row() -> None:
    for info in discover_scenarios().values():
        assert info.table_row in TABLE_ROW_KEYS, info.name
        assert info.description, f"{info.name}: a docstring says what it measures"


def test_the_scenarios_that_write_say_so() -> None:
    writers = {name for name, info in discover_scenarios().items() if info.writes}
    assert writers == {"updates", "api", "forms", "mixed", "errors"}


def test_unknown_scenarios_are_named_with_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"no scenario 'nope'.*plaintext"):
        scenario_info("nope")


def test_a_scenario_without_its_constants_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text('"""Broken."""\nTABLE_ROW = "orm"\n')
    with pytest.raises(ValueError, match="NAME"):
        read_scenario(path)


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ('{"/a [422]": 0.6, "/b [404]": 0.5}', "more than 1"),
        ('{"/a [422]": "a fifth"}', "between 0 and 1"),
        ('["/a [422]"]', "between 0 and 1"),
    ],
)
def test_failure_shares_must_be_names_with_shares_that_fit_in_one(
    tmp_path: Path, shares: str, message: str
) -> None:
    path = tmp_path / "broken.py"
    path.write_text(f'"""Broken."""\nNAME = "broken"\nTABLE_ROW = "orm"\nFAILURE_SHARES = {shares}\n')
    with pytest.raises(ValueError, match=message):
        read_scenario(path)


def test_each_scenario_file_defines_one_user_class() -> None:
    # In a subprocess: importing Locust monkey-patches the interpreter, which this one must not be.
    code = (
        "import json; from bench.run.loadgen.process import load_user_class\n"
        "from bench.scenarios import discover_scenarios\n"
        "print(json.dumps({n: load_user_class(n).__name__ for n in discover_scenarios()}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    classes = json.loads(result.stdout)
    assert set(classes) == ISSUE_SCENARIOS
    assert len(set(classes.values())) == len(classes), "class names must differ: remote workers load them all"


class FakeResponse:
    """Just what the response checks use of Locust's ResponseContextManager."""

    def __init__(self, status: int, body: bytes, content_type: str) -> None:
        self.status_code = status
        self.content = body
        self.headers = {"Content-Type": content_type}
        self.failures: list[str] = []

    def failure(self, message: str) -> None:
        self.failures.append(message)


def test_json_body_checks_status_and_content_type() -> None:
    good = FakeResponse(200, b'{"a": 1}', "application/json")
    assert json_body(good, status=200) == {"a": 1}  # type: ignore[arg-type]
    assert good.failures == []
    for response in (
        FakeResponse(500, b"{}", "application/json"),
        FakeResponse(200, b"{}", "text/html"),
        FakeResponse(200, b"not json", "application/json"),
    ):
        assert json_body(response, status=200) is None  # type: ignore[arg-type]
        assert len(response.failures) == 1


def test_html_body_accepts_the_given_statuses() -> None:
    form_again = FakeResponse(422, b"<form></form>", "text/html; charset=utf-8")
    assert html_body(form_again, statuses=frozenset({200, 422})) == "<form></form>"  # type: ignore[arg-type]
    assert html_body(form_again) is None  # type: ignore[arg-type]


def test_the_write_log_keeps_the_last_write_of_each_item() -> None:
    log = WriteLog()
    log.item_saved({"name": "a", "price": 1.5, "quantity": 1})
    log.item_saved({"name": "a", "price": 2, "quantity": 2, "description": "d"})
    log.item_saved({"name": "b", "price": 3, "quantity": 3})
    log.item_deleted("b")
    log.item_uncertain("c")
    log.world_updated(1, 10)
    log.world_updated(1, 11)
    with pytest.raises(KeyboardInterrupt), log.unless_answered(log.create_failed):
        raise KeyboardInterrupt  # stands for the GreenletExit of a user killed while waiting
    message = log.to_message()
    assert message["items"] == {"a": {"description": "d", "price": "2.00", "quantity": 2}}
    assert message["deleted_items"] == ["b"]
    assert message["uncertain_items"] == ["c"]
    assert message["world"] == {"1": [10, 11]}
    assert message["failed_creates"] == 1


def apps_under_test() -> list[str]:
    chosen = os.environ.get("BENCH_TEST_APPS")
    return chosen.split(",") if chosen else discover_apps()


@pytest.mark.slow
@pytest.mark.parametrize("app", apps_under_test())
def test_every_scenario_runs_against_the_app_without_failures(app: str, tmp_path: Path) -> None:
    """Each scenario's checks accept the app's answers: a short cell of every scenario, no failure at all."""
    from bench.results import RESULTS_FILE, read_rows
    from bench.run.profiles import Profile
    from bench.run.runner import RunSettings, run_benchmark

    # The window ends after a count of requests, not a time: a busy machine makes the test slower, never red.
    profile = Profile(
        name="scenarios-test",
        apps=(app,),
        users=(4,),
        warmup_s=0.5,
        duration_s=1.0,
        trials=1,
        min_requests=SCENARIO_MIN_REQUESTS,
    )
    run_dir = run_benchmark(RunSettings(profile=profile, reports_dir=tmp_path, pin_runner=False))
    rows: list[dict[str, Any]] = list(read_rows(run_dir / RESULTS_FILE))
    assert {row["scenario"] for row in rows} == ISSUE_SCENARIOS
    for row in rows:
        assert row["error"] == "", f"{row['scenario']}: {row['error']}\n{row['log_tail'][-1500:]}"
        assert row["failures"] == 0, f"{row['scenario']}: {row['failures_by_kind']}"
        assert row["requests"] >= SCENARIO_MIN_REQUESTS
        if discover_scenarios()[row["scenario"]].writes:
            assert row["data_check"] == "ok", row["scenario"]


def test_io_docs_and_errors_stay_out_of_the_overall_score() -> None:
    from bench.report.rows import unscored_scenarios

    unscored = {"io", "docs", "errors"}
    assert {name for name, info in discover_scenarios().items() if not info.in_score} == unscored
    assert unscored_scenarios() == unscored


def test_the_login_cache_counts_the_logins_in_flight() -> None:
    cache = _LoginCache()
    seen: list[int] = []

    def login() -> str:
        seen.append(cache.in_flight)
        return "token"

    assert cache.get(("token", "host", "a"), login) == "token"
    assert cache.get(("token", "host", "a"), login) == "token"  # cached: no second login
    assert seen == [1]
    assert cache.in_flight == 0

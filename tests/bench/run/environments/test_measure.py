"""bench/run/environments/measure.py: the versions run's matrix and its one interleaved schedule. Pure parts:
nothing is built or started."""

from __future__ import annotations

from collections import Counter, defaultdict

from bench.config import APPS_DIR
from bench.run.environments.measure import (
    environment_lines,
    restart_for_trial,
    versions_matrix,
    versions_schedule,
)
from bench.run.environments.plan import Interpreter
from bench.run.profiles import Profile

FOUND = [Interpreter("3.11", "/py/3.11", "3.11.7"), Interpreter("3.12", "/py/3.12", "3.12.1")]
PROFILE = Profile(
    name="versions-test",
    scenarios=("db", "json"),
    db=("postgres",),
    trials=3,
    releases={"django": ("5.1", "4.2", "5.2"), "flask": ("3.0", "3.1")},
    pythons=("all",),
    release_python="3.12",
)


def test_the_matrix_lays_out_the_environments_of_the_profile() -> None:
    matrix = versions_matrix(PROFILE, apps_dir=APPS_DIR, found=FOUND)
    labels = [environment.label for environment in matrix.plan.environments]
    assert labels == [
        "django 4.2 py3.12",
        "django 5.1 py3.12",
        "django 5.2 py3.11",
        "django 5.2 py3.12",
        "flask 3.0 py3.12",
        "flask 3.1 py3.11",
        "flask 3.1 py3.12",
    ]
    assert list(matrix.scenarios) == ["db", "json"]
    lines = "\n".join(environment_lines(matrix, cache=APPS_DIR / "no-cache"))
    assert "django 4.2 py3.12" in lines and "django==4.2.*" in lines


def test_apps_narrow_the_matrix_to_some_frameworks() -> None:
    from dataclasses import replace

    matrix = versions_matrix(replace(PROFILE, apps=("flask",)), apps_dir=APPS_DIR, found=FOUND)
    assert {environment.app for environment in matrix.plan.environments} == {"flask"}


def test_every_environment_runs_each_trial_in_its_own_round_in_shuffled_blocks() -> None:
    matrix = versions_matrix(PROFILE, apps_dir=APPS_DIR, found=FOUND)
    environments = matrix.plan.environments
    schedule = versions_schedule(environments, apps=matrix.apps, profile=PROFILE, seed=7)
    labels = {environment.label for environment in environments}
    assert len(schedule) == len(labels) * 2 * 3
    # Each environment's cells run on its own app, on the app's recommended variant
    for scheduled in schedule:
        assert scheduled.environment.startswith(scheduled.cell.app + " ")
        assert scheduled.cell.server == matrix.apps[scheduled.cell.app].default_server
    # Round by round: all of trial 1 before any of trial 2, every environment in every (trial, scenario) block
    trials = [scheduled.cell.trial for scheduled in schedule]
    assert trials == sorted(trials)
    blocks: dict[tuple[int, str], list[str]] = defaultdict(list)
    for scheduled in schedule:
        blocks[(scheduled.cell.trial, scheduled.cell.scenario)].append(scheduled.environment)
    assert all(sorted(members) == sorted(labels) for members in blocks.values())
    # Frameworks mixed within a block, and the order differs between blocks (shuffled, not sorted)
    orders = {tuple(members) for members in blocks.values()}
    assert len(orders) > 1
    assert any(
        Counter(label.split()[0] for label in members[:4]).most_common(1)[0][1] < 4 for members in orders
    )


def test_the_schedule_is_the_same_for_the_same_seed() -> None:
    matrix = versions_matrix(PROFILE, apps_dir=APPS_DIR, found=FOUND)
    first = versions_schedule(matrix.plan.environments, apps=matrix.apps, profile=PROFILE, seed=3)
    again = versions_schedule(matrix.plan.environments, apps=matrix.apps, profile=PROFILE, seed=3)
    other = versions_schedule(matrix.plan.environments, apps=matrix.apps, profile=PROFILE, seed=4)
    assert first == again
    assert first != other


def test_a_server_is_restarted_when_its_environment_starts_a_new_round() -> None:
    seen: dict[str, int] = {}
    assert not restart_for_trial(seen, "flask 3.1 py3.12", 1)
    assert not restart_for_trial(seen, "flask 3.1 py3.12", 1)
    assert restart_for_trial(seen, "flask 3.1 py3.12", 2)
    assert not restart_for_trial(seen, "django 5.2 py3.12", 2)


def test_metadata_lists_every_environment_with_why_it_was_not_measured() -> None:
    from bench.run.environments.build import BuiltEnvironment
    from bench.run.environments.correctness import ContractCheck
    from bench.run.environments.measure import environments_metadata

    matrix = versions_matrix(PROFILE, apps_dir=APPS_DIR, found=FOUND)
    by_label = {environment.label: environment for environment in matrix.plan.environments}
    built = [
        BuiltEnvironment(by_label["flask 3.0 py3.12"], python="/env/a/python", packages={"flask": "3.0.3"}),
        BuiltEnvironment(by_label["flask 3.1 py3.12"], python="/env/b/python", packages={"flask": "3.1.3"}),
        BuiltEnvironment(by_label["flask 3.1 py3.11"], incompatible="resolver conflict: Because x"),
    ]
    checks = {
        "flask 3.0 py3.12": ContractCheck(passed=True, tests=("t",)),
        "flask 3.1 py3.12": ContractCheck(passed=False, tests=("t",), failure="FAILED test_json"),
    }
    records = {r["label"]: r for r in environments_metadata(built, checks, plan=matrix.plan)["environments"]}
    assert records["flask 3.0 py3.12"]["status"] == "ok"
    assert records["flask 3.0 py3.12"]["framework_version"] == "3.0.3"
    assert records["flask 3.1 py3.12"]["status"] == "incompatible: failed contract check: FAILED test_json"
    assert records["flask 3.1 py3.11"]["status"] == "incompatible: resolver conflict: Because x"
    assert records["flask 3.1 py3.11"]["contract"] == "not checked"

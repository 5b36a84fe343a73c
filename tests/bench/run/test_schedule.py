"""bench/run/schedule.py: the cells a profile names, in a shuffled, interleaved and reproducible order."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.config import load_app
from bench.errors import ConfigError
from bench.run.profiles import ALL, Profile
from bench.run.schedule import (
    Cell,
    blocks_of,
    build_schedule,
    measured_cells,
    resolve_scenarios,
    resolve_targets,
)

TARGETS = [("fastapi", "uvicorn"), ("flask", "gunicorn"), ("django", "gunicorn")]


def schedule(seed: int = 1, trials: int = 3) -> list[Cell]:
    return build_schedule(
        targets=TARGETS,
        scenarios=["plaintext", "json", "io"],
        users_for={"plaintext": [8, 32], "json": [32], "io": [256]},
        trials=trials,
        seed=seed,
    )


def test_every_cell_is_measured_once_per_trial() -> None:
    cells = schedule()
    assert len(cells) == 3 * 3 * 4
    assert len(set(cells)) == len(cells)
    assert Counter(cell.trial for cell in cells) == {1: 12, 2: 12, 3: 12}
    assert {cell.users for cell in cells if cell.scenario == "io"} == {256}


def test_trials_run_one_after_another_and_apps_interleave() -> None:
    cells = schedule()
    assert [cell.trial for cell in cells] == sorted(cell.trial for cell in cells)
    # Within a trial, the apps of one scenario and user count run back to back, so drift hits them alike.
    for start in range(0, len(cells), len(TARGETS)):
        block = cells[start : start + len(TARGETS)]
        assert len({(cell.scenario, cell.users, cell.trial) for cell in block}) == 1
        assert {(cell.app, cell.server) for cell in block} == set(TARGETS)


def test_blocks_cut_the_schedule_where_trial_scenario_users_or_database_change() -> None:
    cells = schedule()
    blocks = blocks_of(cells)
    assert [cell for block in blocks for cell in block] == cells, "every cell once, in run order"
    assert len(blocks) == 3 * 4
    for block in blocks:
        assert {(cell.app, cell.server) for cell in block} == set(TARGETS)
    # A database change cuts a block too; a cell alone is a block of one.
    on_two = [Cell("a", "s", "db", 32, 1, "postgres"), Cell("b", "s", "db", 32, 1, "sqlite")]
    assert blocks_of(on_two) == [[on_two[0]], [on_two[1]]]
    assert blocks_of([]) == []


def test_the_order_is_shuffled_and_reproducible_from_its_seed() -> None:
    assert schedule(seed=1) == schedule(seed=1)
    assert schedule(seed=1) != schedule(seed=2)
    cells = schedule(seed=1, trials=8)
    app_orders = {tuple(c.app for c in cells[i : i + 3]) for i in range(0, len(cells), 3)}
    assert len(app_orders) > 1, "the apps' order within a block varies"


def test_a_scenario_may_have_more_trials_spread_over_the_run() -> None:
    cells = build_schedule(
        targets=TARGETS,
        scenarios=["plaintext", "api"],
        users_for={"plaintext": [32], "api": [32]},
        trials=1,
        trials_for={"api": 3},
        seed=1,
    )
    assert Counter((cell.scenario, cell.trial) for cell in cells) == {
        ("plaintext", 1): 3,
        ("api", 1): 3,
        ("api", 2): 3,
        ("api", 3): 3,
    }
    assert [cell.trial for cell in cells] == sorted(cell.trial for cell in cells)


def test_resolve_targets() -> None:
    apps = {name: load_app(name) for name in ("fastapi", "flask", "django")}
    default = resolve_targets(Profile(name="t"), apps)
    assert default == [(name, apps[name].default_server) for name in apps]
    every = resolve_targets(Profile(name="t", servers=(ALL,)), apps)
    assert len(every) == sum(len(app.primary_servers) for app in apps.values())
    assert not any(server.endswith("-workers") for _, server in every), "sensitivity copies need naming"
    named = resolve_targets(Profile(name="t", servers=("gunicorn",)), apps)
    assert {server for _, server in named} == {"gunicorn"}
    sensitivity = resolve_targets(Profile(name="t", servers=(ALL, "2-workers")), apps)
    assert len(sensitivity) == len(every) + 3


def test_a_variant_that_names_its_scenarios_is_measured_on_those_only() -> None:
    flask = load_app("flask")
    restricted = next(name for name, variant in flask.servers.items() if variant.scenarios)
    cells = build_schedule(
        targets=[("flask", restricted), ("flask", flask.default_server), ("external", "target")],
        scenarios=["json", "db"],
        users_for={"json": [32], "db": [32]},
        trials=1,
        seed=1,
    )
    kept = measured_cells(cells, {"flask": flask})
    assert {(cell.server, cell.scenario) for cell in kept} == {
        (restricted, "json"),
        (flask.default_server, "json"),
        (flask.default_server, "db"),
        ("target", "json"),
        ("target", "db"),
    }
    assert kept == [cell for cell in cells if cell in kept]  # the order stays


def test_resolve_scenarios_names_the_unknown_ones() -> None:
    assert list(resolve_scenarios(Profile(name="t", scenarios=("json", "db")))) == ["json", "db"]
    with pytest.raises(ConfigError, match="nope"):
        resolve_scenarios(Profile(name="t", scenarios=("json", "nope")))


def test_database_rows_run_on_every_database_and_the_others_on_the_first() -> None:
    cells = build_schedule(
        targets=TARGETS,
        scenarios=["db", "json"],
        users_for={"db": [32], "json": [32]},
        trials=2,
        seed=3,
        databases_for={"db": ("postgres", "sqlite"), "json": ("postgres",)},
    )
    assert Counter((cell.scenario, cell.db) for cell in cells) == {
        ("db", "postgres"): 6,
        ("db", "sqlite"): 6,
        ("json", "postgres"): 6,
    }
    # A block is one scenario on one database: the apps of a block run back to back.
    for start in range(0, len(cells), len(TARGETS)):
        assert len({(cell.scenario, cell.db) for cell in cells[start : start + len(TARGETS)]}) == 1


def test_the_scenarios_declare_which_are_database_rows() -> None:
    per_database = {name for name, info in resolve_scenarios(Profile(name="t")).items() if info.per_database}
    database_rows = {"db", "queries", "updates", "fortunes", "api", "errors", "forms", "admin", "mixed"}
    assert per_database == database_rows


def test_resolve_scenarios_names_unknown_profiled_scenarios() -> None:
    profile = Profile(name="t", scenarios=("json",), profile_scenarios=("json", "nope"))
    with pytest.raises(ConfigError, match=r"profile_scenarios: unknown scenario\(s\) nope"):
        resolve_scenarios(profile)

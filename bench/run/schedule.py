"""The matrix of a run: which apps, server variants and scenarios a profile names, and the cells in run order.

The cells of a trial run scenario by scenario in a shuffled order, and within a scenario the apps in a
shuffled order, so that slow drift of the machine hits every app alike.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.config import AppSpec, discover_apps, load_app
from bench.errors import ConfigError
from bench.run.database import DB_KINDS, kind_of
from bench.run.profiles import ALL, DEFAULT_SERVER, Profile
from bench.scenarios import ScenarioInfo, discover_scenarios

log = logging.getLogger(__name__)

EXTERNAL_SERVER = "external"  # the server label of an app measured with --target
TARGET_APP = "target"


@dataclass(frozen=True)
class Cell:
    """One measurement of the matrix."""

    app: str
    server: str
    scenario: str
    users: int
    trial: int
    db: str = "sqlite"  # sqlite, postgres or a DATABASE_URL


def resolve_apps(profile: Profile, apps_dir: Path) -> dict[str, AppSpec]:
    names = list(profile.apps) or discover_apps(apps_dir)
    if not names:
        raise ConfigError(f"no app to measure: no app.toml under {apps_dir}")
    return {name: load_app(name, apps_dir) for name in names}


def resolve_targets(
    profile: Profile, apps: Mapping[str, AppSpec], servers: Sequence[str] | None = None
) -> list[tuple[str, str]]:
    """Return the (app, server variant) pairs the profile measures (of `servers` when given)."""
    names = tuple(servers if servers is not None else profile.servers)
    targets: list[tuple[str, str]] = []
    for app in apps.values():
        if ALL in names:
            # Every variant of its own, and the sensitivity copies the names list besides.
            chosen = [*app.primary_servers, *(name for name in names if name in app.servers)]
        else:
            chosen = [
                app.default_server if name == DEFAULT_SERVER else name
                for name in names
                if name == DEFAULT_SERVER or name in app.servers
            ]
        if not chosen:
            log.warning("%s has none of the servers %s: skipped", app.name, ", ".join(names))
        targets.extend((app.name, server) for server in dict.fromkeys(chosen))
    if not targets:
        raise ConfigError(f"no app has any of the servers {', '.join(names)}")
    return targets


def resolve_scenarios(profile: Profile) -> dict[str, ScenarioInfo]:
    known = discover_scenarios()
    names = list(profile.scenarios) or list(known)
    for option, listed in (("scenarios", names), ("profile_scenarios", profile.profile_scenarios)):
        unknown = [name for name in listed if name not in known]
        if unknown:
            raise ConfigError(
                f"{option}: unknown scenario(s) {', '.join(unknown)} (known: {', '.join(known)})"
            )
    return {name: known[name] for name in names}


def build_schedule(
    *,
    targets: Sequence[tuple[str, str]],
    scenarios: Sequence[str],
    users_for: Mapping[str, Sequence[int]],
    trials: int,
    seed: int,
    trials_for: Mapping[str, int] | None = None,
    databases_for: Mapping[str, Sequence[str]] | None = None,
    targets_for: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> list[Cell]:
    """Return every cell in run order: trial by trial; within a trial, (scenario, users, database) blocks in
    a shuffled order; within a block, the apps and servers in a shuffled order. trials_for gives some
    scenarios another number of trials than `trials`; their extra trials spread over the run like the others.
    databases_for gives each scenario's databases (default: sqlite alone); targets_for gives some scenarios
    other targets than `targets` on their first database."""
    rng = random.Random(seed)
    counts = {scenario: (trials_for or {}).get(scenario, trials) for scenario in scenarios}
    cells: list[Cell] = []
    for trial in range(1, max(counts.values(), default=0) + 1):
        blocks = [
            (scenario, users, db)
            for scenario in scenarios
            if counts[scenario] >= trial
            for users in users_for[scenario]
            for db in (databases_for or {}).get(scenario, ("sqlite",))
        ]
        rng.shuffle(blocks)
        for scenario, users, db in blocks:
            first_db = (databases_for or {}).get(scenario, ("sqlite",))[0]
            order = list((targets_for or {}).get(scenario, targets) if db == first_db else targets)
            rng.shuffle(order)
            cells.extend(Cell(app, server, scenario, users, trial, db) for app, server in order)
    return cells


def compact_cells(cells: Sequence[Cell], *, scenarios: Sequence[str]) -> list[str]:
    """Return one line per (scenario, users, database) block: its trials and the app/server pairs measured,
    the scenarios in the given order."""
    blocks: dict[tuple[str, int, str], tuple[set[int], dict[str, None]]] = {}
    for cell in cells:
        trials, targets = blocks.setdefault((cell.scenario, cell.users, db_label(cell.db)), (set(), {}))
        trials.add(cell.trial)
        targets[f"{cell.app}/{cell.server}"] = None
    order = {name: index for index, name in enumerate(scenarios)}
    lines = []
    for (scenario, users, db), (trials, targets) in sorted(
        blocks.items(), key=lambda item: (order.get(item[0][0], len(order)), item[0])
    ):
        count = len(targets) * len(trials)
        lines.append(
            f"{scenario} u={users} {db}: {count} cells, {len(trials)} trial(s) of "
            + ", ".join(sorted(targets))
        )
    return lines


def measured_cells(cells: Sequence[Cell], apps: Mapping[str, AppSpec]) -> list[Cell]:
    """Return the cells whose variant is measured on their scenario (a variant's app.toml `scenarios`),
    in their order; cells of an app not in apps (an external target) all stay."""
    return [
        cell
        for cell in cells
        if cell.app not in apps
        or cell.server not in apps[cell.app].servers
        or apps[cell.app].servers[cell.server].measures(cell.scenario)
    ]


def block_key(cell: Cell) -> tuple[int, str, int, str]:
    """Return the block a cell belongs to: its trial, scenario, user count and database."""
    return cell.trial, cell.scenario, cell.users, cell.db


def blocks_of(cells: Sequence[Cell]) -> list[list[Cell]]:
    """Return a schedule's cells cut into its blocks (runs of cells of one trial, scenario, user count and
    database: the apps measured one after another, which a sweep offers the same rates to)."""
    blocks: list[list[Cell]] = []
    for cell in cells:
        if blocks and block_key(blocks[-1][-1]) == block_key(cell):
            blocks[-1].append(cell)
        else:
            blocks.append([cell])
    return blocks


def cell_label(cell: Cell) -> str:
    return f"{cell.app}/{cell.server} {cell.scenario} u={cell.users} t={cell.trial} {db_label(cell.db)}"


def db_label(db: str) -> str:
    """Return a database choice as rows and labels name it: sqlite, postgres, or the kind of a URL."""
    return db if db in DB_KINDS else kind_of(db)


@dataclass(frozen=True)
class Matrix:
    """What a run measures: its scenarios, apps and (app, server) targets, and its cells in run order."""

    scenarios: Mapping[str, ScenarioInfo]
    apps: Mapping[str, AppSpec]
    targets: list[tuple[str, str]]  # every (app, server) some cell measures
    schedule: list[Cell]
    seed: int


def plan_matrix(profile: Profile, *, apps_dir: Path, target: str | None, seed: int) -> Matrix:
    """Return the matrix of a profile (the apps under apps_dir, or the one app at target), its cells shuffled
    with seed. Reads the apps' and scenarios' files; starts nothing."""
    scenarios = resolve_scenarios(profile)
    apps: dict[str, AppSpec]
    if target is not None:
        apps = {}
        targets = [(profile.apps[0] if profile.apps else TARGET_APP, EXTERNAL_SERVER)]
        targets_for: dict[str, list[tuple[str, str]]] = {}
    else:
        apps = resolve_apps(profile, apps_dir)
        targets = resolve_targets(profile, apps)
        targets_for = {
            scenario: resolve_targets(profile, apps, servers)
            for scenario, servers in profile.scenario_servers.items()
            if scenario in scenarios
        }
    schedule = build_schedule(
        targets=targets,
        scenarios=list(scenarios),
        users_for={name: profile.users_for(name) for name in scenarios},
        trials=profile.trials,
        trials_for={name: profile.trials_for(name) for name in scenarios},
        databases_for={
            name: profile.databases_for(per_database=info.per_database) for name, info in scenarios.items()
        },
        targets_for=targets_for,
        seed=seed,
    )
    # A variant that names its scenarios in app.toml is measured on those only, even where "all" chose it.
    schedule = measured_cells(schedule, apps)
    every_target = list(dict.fromkeys([*targets, *(t for more in targets_for.values() for t in more)]))
    return Matrix(scenarios=scenarios, apps=apps, targets=every_target, schedule=schedule, seed=seed)

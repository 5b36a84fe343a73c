"""`bench run --profile versions`: every environment's cells in one interleaved run.

The environments are built (or found in the cache) and each passes the contract subset of the profile's
scenarios before the run starts; one that cannot (incompatible, or a failed check) is recorded in
metadata.json with its reason and measures nothing. The cells of every usable environment go into one
schedule, the runner's (bench/run/schedule.py, with environments where it has apps): trial by trial, the
scenario blocks shuffled and, within a block, the environments shuffled, so that trial i of every release
runs in round i and slow drift of the machine hits every release alike. Each round starts new server
processes (a process's own offset would otherwise bias every trial of its environment). Rows carry their
environment's label as `variant` ("django 5.1 py3.12").
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.config import AppSpec, environments_cache, find_uv
from bench.errors import ConfigError
from bench.run.database import postgres_cluster
from bench.run.display import RunDisplay
from bench.run.environments.build import BuiltEnvironment, build_environment, uv_version
from bench.run.environments.correctness import ContractCheck, check_contract, contract_tests
from bench.run.environments.plan import Environment, EnvironmentPlan, Interpreter, plan_environments
from bench.run.environments.pythons import find_pythons
from bench.run.metadata import collect_metadata
from bench.run.pool import ServerPool
from bench.run.profiles import Profile
from bench.run.runner import CellRunner, RunSettings, run_scope, run_settings_metadata
from bench.run.schedule import Cell, build_schedule, db_label, resolve_apps, resolve_scenarios

log = logging.getLogger(__name__)

NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class VersionsMatrix:
    """What a versions run measures: its environments, their apps and the scenarios."""

    plan: EnvironmentPlan
    apps: Mapping[str, AppSpec]
    scenarios: Sequence[str]


@dataclass(frozen=True)
class ScheduledCell:
    """One cell of a versions run: the environment it runs in and the runner's cell (its real app)."""

    environment: str  # the environment's label
    cell: Cell


def versions_matrix(profile: Profile, *, apps_dir: Path, found: Sequence[Interpreter]) -> VersionsMatrix:
    """Return the environments and scenarios of a versions profile (reads app.toml files; starts nothing)."""
    if not profile.versions:
        raise ConfigError(f"profile {profile.name!r} names no releases: not a versions profile")
    # --apps narrows a versions run to some frameworks' releases
    releases = {
        app: lines for app, lines in profile.releases.items() if not profile.apps or app in profile.apps
    }
    if not releases:
        raise ConfigError(f"--apps {', '.join(profile.apps)}: none of them has releases in {profile.name!r}")
    apps = resolve_apps(replace(profile, apps=tuple(releases)), apps_dir)
    plan = plan_environments(
        releases=releases,
        frameworks={name: spec.framework for name, spec in apps.items()},
        requirements={name: spec.requirements for name, spec in apps.items()},
        pythons=profile.pythons,
        found=found,
        release_python=profile.release_python,
        every_python=profile.every_python,
        lockstep=profile.lockstep,
    )
    return VersionsMatrix(plan=plan, apps=apps, scenarios=list(resolve_scenarios(profile)))


def versions_schedule(
    environments: Sequence[Environment], *, apps: Mapping[str, AppSpec], profile: Profile, seed: int
) -> list[ScheduledCell]:
    """Return every environment's cells in run order: the runner's schedule, with each environment in the
    place of an app (each on its app's recommended variant), so that one block holds every environment."""
    by_label = {environment.label: environment for environment in environments}
    scenarios = list(resolve_scenarios(profile))
    cells = build_schedule(
        targets=[(label, apps[environment.app].default_server) for label, environment in by_label.items()],
        scenarios=scenarios,
        users_for={name: profile.users_for(name) for name in scenarios},
        trials=profile.trials,
        trials_for={name: profile.trials_for(name) for name in scenarios},
        databases_for={name: profile.db[:1] for name in scenarios},
        seed=seed,
    )
    return [ScheduledCell(cell.app, replace(cell, app=by_label[cell.app].app)) for cell in cells]


def environment_lines(matrix: VersionsMatrix, *, cache: Path) -> list[str]:
    """Return what --dry-run says of the environments: which, on which Python, what they pin."""
    plan = matrix.plan
    lines = [
        f"environments   {len(plan.environments)}, built by uv into {cache} (once; then reused)",
        f"pythons        {', '.join(plan.pythons) or 'none found'}; releases on {plan.release_python or '-'}",
    ]
    if plan.missing_pythons:
        lines.append(f"not found      Python {', '.join(plan.missing_pythons)}")
    for environment in plan.environments:
        where = "" if environment.executable else " (its Python not found: incompatible)"
        lines.append(f"  {environment.label:<22} {environment.pins}{where}")
    lines.append(f"contract check {len(contract_tests(matrix.scenarios))} tests per environment, first")
    return lines


def build_environments(
    plan: EnvironmentPlan, *, found: Sequence[Interpreter], cache: Path, uv: Path
) -> list[BuiltEnvironment]:
    """Return every environment of the plan built (or found in the cache), in the plan's order."""
    full_versions = {interpreter.version: interpreter.full_version for interpreter in found}
    salt = uv_version(uv)
    built = []
    for environment in plan.environments:
        result = build_environment(
            environment, uv=uv, cache=cache, full_version=full_versions.get(environment.python, ""), salt=salt
        )
        state = "cached" if result.cached else f"built in {result.build_s:.1f} s"
        log.info(
            "%s: %s",
            environment.label,
            f"incompatible: {result.incompatible}" if result.incompatible else state,
        )
        built.append(result)
    return built


def check_environments(
    built: Sequence[BuiltEnvironment], *, apps: Mapping[str, AppSpec], scenarios: Sequence[str], db: str
) -> dict[str, ContractCheck]:
    """Return each usable environment's contract check, by label."""
    checks = {}
    for result in built:
        if not result.usable:
            continue
        environment = result.environment
        check = check_contract(
            app=environment.app,
            server=apps[environment.app].default_server,
            python=result.python,
            scenarios=scenarios,
            db=db_label(db),
        )
        log.info(
            "%s: contract %s", environment.label, "passed" if check.passed else f"failed: {check.failure}"
        )
        checks[environment.label] = check
    return checks


def environments_metadata(
    built: Sequence[BuiltEnvironment], checks: Mapping[str, ContractCheck], *, plan: EnvironmentPlan
) -> dict[str, Any]:
    """Return metadata.json's "versions": every environment, its packages and its status, measured or not."""
    environments = []
    for result in built:
        record = result.as_metadata()
        check = checks.get(result.environment.label)
        if check is None:
            record["contract"] = NOT_CHECKED
        elif check.passed:
            record["contract"] = "passed"
        else:
            record["contract"] = f"failed: {check.failure}"
            record["status"] = f"incompatible: failed contract check: {check.failure}"
        record["label"] = result.environment.label
        record["newest"] = result.environment.newest
        environments.append(record)
    return {
        "pythons": list(plan.pythons),
        "missing_pythons": list(plan.missing_pythons),
        "release_python": plan.release_python,
        "environments": environments,
    }


def restart_for_trial(trials: dict[str, int], environment: str, trial: int) -> bool:
    """Return True when an environment's server must be restarted before its cell of `trial` (noting it):
    each round runs on new server processes."""
    restart = environment in trials and trials[environment] != trial
    trials[environment] = trial
    return restart


def run_versions(
    settings: RunSettings,
    *,
    display: RunDisplay | None = None,
    find: Callable[[], list[Interpreter]] = find_pythons,
) -> Path:
    """Build and check every environment of the versions profile, measure them interleaved; return the run's
    directory (metadata.json's "versions" lists every environment, measured or not, and why)."""
    profile = settings.profile
    uv = find_uv()
    if uv is None:
        raise ConfigError("a versions run builds its environments with uv: run `make setup` first")
    cache = environments_cache()
    found = find()
    matrix = versions_matrix(profile, apps_dir=settings.apps_dir, found=found)
    built = build_environments(matrix.plan, found=found, cache=cache, uv=uv)
    checks = check_environments(built, apps=matrix.apps, scenarios=matrix.scenarios, db=profile.db[0])
    measured = [r for r in built if r.usable and checks[r.environment.label].passed]
    seed = profile.seed if profile.seed is not None else random.SystemRandom().randrange(2**31)
    schedule = versions_schedule(
        [r.environment for r in measured], apps=matrix.apps, profile=profile, seed=seed
    )
    metadata = collect_metadata(
        apps=[(spec, [spec.default_server]) for spec in matrix.apps.values()],
        db_kinds=[db_label(profile.db[0])],
        settings=run_settings_metadata(settings, seed=seed, cells=len(schedule)),
        command_line=settings.command_line,
    )
    metadata["profile"] = profile.name
    for record in metadata["apps"].values():
        # collect_metadata read the bench's own environment: each environment's versions are in "versions"
        record["framework_version"] = None
        record["packages"] = {}
        record["servers"] = {}
    metadata["versions"] = environments_metadata(built, checks, plan=matrix.plan)
    display = display or RunDisplay(quiet=True)
    with run_scope(
        settings,
        profile_name=profile.name,
        metadata=metadata,
        display=display,
        cells=len(schedule),
        scratch_prefix="bench-versions-",
    ) as scope:
        run, workdir, stack, progress = scope.run, scope.workdir, scope.stack, scope.progress
        cluster = None
        if profile.db[0] == "postgres":
            cluster = stack.enter_context(postgres_cluster(cpus=set(settings.database_cpus)))
        scenarios = resolve_scenarios(profile)
        runners: dict[str, tuple[CellRunner, ServerPool]] = {}
        first: CellRunner | None = None
        for number, result in enumerate(measured, start=1):
            environment = result.environment
            pool = stack.enter_context(
                ServerPool(
                    apps={environment.app: matrix.apps[environment.app]},
                    db=profile.db[0],
                    workdir=Path(workdir),
                    logs_dir=run.logs_dir,
                    workers=profile.workers,
                    threads=profile.threads,
                    server_cpus=set(settings.server_cpus),
                    db_cpus=set(settings.database_cpus),
                    extra_env=settings.extra_env,
                    python=result.python,
                    cluster=cluster,
                    prefix=f"env{number}",
                )
            )
            runner = CellRunner(
                replace(settings, variant=environment.label),
                scenarios=scenarios,
                pools={profile.db[0]: pool},
                workdir=Path(workdir),
                logs_dir=run.logs_dir,
                loadgen_from=first,
            )
            first = first or runner
            runners[environment.label] = (runner, pool)
        if first is not None:
            stack.callback(first.close)
        trials: dict[str, int] = {}
        for scheduled in schedule:
            runner, pool = runners[scheduled.environment]
            cell = scheduled.cell
            if restart_for_trial(trials, scheduled.environment, cell.trial):
                pool.stop(cell.app, cell.server)
            progress.cell_started(f"{scheduled.environment} {cell.scenario} t={cell.trial}")
            row = runner.run(cell)
            run.append(row)
            progress.cell_done(row)
    display.summary(run.run_dir)
    return run.run_dir

"""`bench check --ab REF`: measure the apps of a git revision (A) and of the working tree (B), interleaved.

REF is checked out into a temporary git worktree. Round after round, every cell of the profile is measured
once on each side, back to back, A then B or B then A (alternating between rounds, and between cells within
a round), so that slow drift of the machine hits both halves of a pair alike: the idea of duet benchmarking
and of randomized multiple interleaved trials. Each round starts new server processes on both sides (see
restart_for_round). Rows go to reports/<run-id>/results.jsonl labelled with their variant and trial = round,
and `bench check` compares them pair by pair.

Only the apps come from the two trees: the measuring code (bench/, its scenarios) is this tree's for both
sides, so a change to bench/ is not what A/B measures. The packages are each side's own: when REF's uv.lock
differs from this tree's (a framework upgrade, a new dependency), side A's apps run in an environment built
from REF's lock inside its worktree, so that the upgrade is what the pairs compare.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import psutil
from rich.console import Console

from bench.config import APP_CONFIG_NAME, APPS_DIR, REPORTS_DIR, ROOT, discover_apps, find_uv, load_app
from bench.errors import CheckInputError, ConfigError
from bench.gate.samples import VARIANT_A, VARIANT_B
from bench.gate.settings import AbDefaults, ab_defaults
from bench.results import RESULTS_FILE, ResultRow, append_row
from bench.run.database import scratch_directory
from bench.run.display import RunDisplay
from bench.run.metadata import collect_metadata
from bench.run.profiles import Profile, load_profile

log = logging.getLogger(__name__)

INJECT_CPU_ENV = "BENCH_INJECT_CPU_US"  # the apps burn this many µs of CPU in every request (contract)
LOCK_FILE = "uv.lock"
SIDE_A_ENVIRONMENT = ".venv"  # inside side A's worktree, removed with it


@dataclass(frozen=True)
class AbCell:
    """One cell of the A/B matrix (both sides measure it)."""

    app: str
    server: str
    scenario: str
    users: int


@dataclass(frozen=True)
class AbStep:
    """One measurement: a cell, the side it runs on, and its round (the trial number of its pair)."""

    cell: AbCell
    variant: str
    trial: int


def ab_schedule(cells: Sequence[AbCell], *, pairs: int, seed: int) -> list[AbStep]:
    """Return the measurements in run order: `pairs` rounds; in each, every cell in a shuffled order, its two
    sides back to back, A first or B first alternating from round to round and from cell to cell."""
    rng = random.Random(seed)
    steps: list[AbStep] = []
    position = {cell: index for index, cell in enumerate(cells)}
    for trial in range(1, pairs + 1):
        order = list(cells)
        rng.shuffle(order)
        for cell in order:
            a_first = (trial + position[cell]) % 2 == 1
            sides = (VARIANT_A, VARIANT_B) if a_first else (VARIANT_B, VARIANT_A)
            steps.extend(AbStep(cell=cell, variant=variant, trial=trial) for variant in sides)
    return steps


ServerKey = tuple[str, str, str]  # side, app, server variant


def restart_for_round(server_round: dict[ServerKey, int], key: ServerKey, trial: int) -> bool:
    """Return True when key's server must be restarted before its cell of round `trial` (and note the round).

    Each round gets new server processes on both sides. A process carries its own offset of a few percent in
    CPU per request (memory layout, hash seed, allocator state: the same code measured 5-7% apart in two
    processes here); a server kept for the whole run would put that offset into every pair of a side, a bias
    the pairs cannot cancel. New processes per round turn it into pair-to-pair noise that the interval sees.
    """
    restart = key in server_round and server_round[key] != trial
    server_round[key] = trial
    return restart


class MeasureStep(Protocol):
    """Measures one step and returns its row (errors in the row: it never raises for a failed cell)."""

    def __call__(self, step: AbStep) -> ResultRow: ...


class Progress(Protocol):
    def cell_started(self, label: str) -> None: ...

    def cell_done(self, row: ResultRow) -> None: ...


def step_label(step: AbStep) -> str:
    cell = step.cell
    return f"{step.variant} {cell.app}/{cell.server} {cell.scenario} u={cell.users} pair {step.trial}"


def run_schedule(
    schedule: Sequence[AbStep], measure: MeasureStep, *, results_path: Path, progress: Progress
) -> None:
    """Measure every step in order, appending each row to results.jsonl as soon as it is measured."""
    for step in schedule:
        progress.cell_started(step_label(step))
        row = measure(step)
        if row.variant != step.variant or row.trial != step.trial:
            row = replace(row, variant=step.variant, trial=step.trial)
        append_row(results_path, row)
        progress.cell_done(row)


@dataclass(frozen=True)
class AbSettings:
    ref: str
    profile: Profile
    pairs: int = AbDefaults.pairs
    seed: int | None = None
    inject_cpu_us: int = 0
    inject_apps: tuple[str, ...] = ()  # empty: every app of B
    server_cpus: frozenset[int] | None = None
    load_cpus: frozenset[int] | None = None
    keep_worktree: bool = False
    reports_dir: Path = REPORTS_DIR
    command_line: str = ""

    @classmethod
    def from_config(
        cls,
        *,
        ref: str,
        pairs: int | None = None,
        profile: str | None = None,
        seed: int | None = None,
        inject_cpu_us: int = 0,
        inject_apps: tuple[str, ...] = (),
        server_cpus: set[int] | None = None,
        load_cpus: set[int] | None = None,
        keep_worktree: bool = False,
        reports_dir: Path | None = None,
        command_line: str = "",
        **profile_overrides: Any,
    ) -> AbSettings:
        """Return the settings: the command line's values, else [tool.bench.check] ab_profile and ab_pairs."""
        defaults = ab_defaults()
        chosen = load_profile(profile or defaults.profile)
        if inject_cpu_us < 0:
            raise ConfigError("--inject-cpu-us must be 0 or more")
        return cls(
            ref=ref,
            profile=chosen.with_overrides(**profile_overrides),
            pairs=pairs or defaults.pairs,
            seed=seed,
            inject_cpu_us=inject_cpu_us,
            inject_apps=inject_apps,
            server_cpus=frozenset(server_cpus) if server_cpus else None,
            load_cpus=frozenset(load_cpus) if load_cpus else None,
            keep_worktree=keep_worktree,
            reports_dir=reports_dir or REPORTS_DIR,
            command_line=command_line,
        )

    def cpu_split(self) -> tuple[frozenset[int], frozenset[int]]:
        """Return (server CPUs, load CPUs): the given ones, else the runner's default split."""
        from bench.run.runner import default_cpu_split

        default_server, default_load = default_cpu_split()
        server = self.server_cpus or default_server
        return server, self.load_cpus or (default_load - server) or default_load

    def injected_env(self, variant: str, app: str) -> dict[str, str]:
        """Return the environment that makes one side of one app burn extra CPU (B only, when asked)."""
        burns = variant == VARIANT_B and (not self.inject_apps or app in self.inject_apps)
        return {INJECT_CPU_ENV: str(self.inject_cpu_us if burns else 0)}


def _git(*args: str, repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=120)


@contextlib.contextmanager
def git_worktree(ref: str, *, repo: Path = ROOT, keep: bool = False) -> Iterator[tuple[Path, str]]:
    """Check REF out into a temporary worktree; yield its root and commit; remove it afterwards."""
    resolved = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", repo=repo)
    if resolved.returncode != 0:
        raise CheckInputError(f"--ab {ref}: not a git revision of {repo}")
    commit = resolved.stdout.strip()
    parent = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    root = parent / "A"
    added = _git("worktree", "add", "--detach", str(root), commit, repo=repo)
    if added.returncode != 0:
        shutil.rmtree(parent, ignore_errors=True)
        raise CheckInputError(f"git worktree add of {ref} failed: {added.stderr.strip()}")
    try:
        yield root, commit
    finally:
        if keep:
            log.info("side A's worktree kept at %s (remove it with `git worktree remove %s`)", root, root)
        else:
            _git("worktree", "remove", "--force", str(root), repo=repo)
            shutil.rmtree(parent, ignore_errors=True)
            _git("worktree", "prune", repo=repo)


def build_environment(root: Path) -> Path:
    """Create root/.venv from root's uv.lock with uv and this machine's interpreter; return its python."""
    uv = find_uv()
    if uv is None:
        raise CheckInputError(
            f"side A locks other packages ({LOCK_FILE} differs) and uv, which builds its environment, is "
            "missing: run `make setup` first"
        )
    environment = root / SIDE_A_ENVIRONMENT
    base_python = getattr(sys, "_base_executable", sys.executable)
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(environment), "UV_PYTHON_DOWNLOADS": "never"}
    log.info("side A locks other packages: building its environment from its %s", LOCK_FILE)
    try:
        result = subprocess.run(
            [str(uv), "sync", "--frozen", "--python", base_python],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CheckInputError(f"building side A's environment ({LOCK_FILE}) took over 30 min") from None
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-15:])
        raise CheckInputError(f"building side A's environment from its {LOCK_FILE} failed:\n{tail}")
    return environment / "bin" / "python"


def side_a_python(
    a_root: Path, *, commit: str, build: Callable[[Path], Path] = build_environment, repo: Path = ROOT
) -> str | None:
    """Return the interpreter side A's apps run on: None (this environment) when REF locks the same
    packages as the working tree, else the python of an environment built from REF's lock."""
    if _git("diff", "--quiet", commit, "--", LOCK_FILE, repo=repo).returncode == 0:
        return None
    return str(build(a_root))


def apps_in_both(profile: Profile, *, a_apps_dir: Path, b_apps_dir: Path = APPS_DIR) -> list[str]:
    """Return the profile's apps that exist in both trees (warning about the others)."""
    names = list(profile.apps) or discover_apps(b_apps_dir)
    present = [name for name in names if (a_apps_dir / f"{name}_app" / APP_CONFIG_NAME).is_file()]
    for name in sorted(set(names) - set(present)):
        log.warning("%s does not exist in side A's revision: not measured", name)
    if not present:
        raise CheckInputError(f"none of the apps {', '.join(names)} exists in side A's revision")
    return present


def verify_tree(pid: int, *, root: Path, what: str) -> None:
    """Raise unless the server process runs from root: else side A would silently measure B's code."""
    try:
        cwd = Path(psutil.Process(pid).cwd()).resolve()
    except psutil.Error:
        return  # the server already exited: its row carries the error
    if cwd != root.resolve():
        raise CheckInputError(
            f"{what}'s server ran in {cwd}, not in its tree {root}: its code would not be that revision's "
            "(bench/run/servers.py must start an app, and run its setup, from the app's own tree)"
        )


@contextlib.contextmanager
def runner_measurer(
    settings: AbSettings,
    *,
    trees: Mapping[str, Path],
    apps: Sequence[str],
    workdir: Path,
    logs_dir: Path,
    pythons: Mapping[str, str | None] | None = None,
) -> Iterator[MeasureStep]:
    """Yield a MeasureStep backed by bench/run/runner.py.

    One server pool and one cell runner (with its load generator) per side and environment: at most three,
    A, B, and B's apps that do not burn the injected CPU. The load generators differ between A and B; what
    they could bias is throughput where they are the limit, and such cells are flagged generator-bound.
    """
    from bench.run.pool import ServerPool
    from bench.run.runner import CellRunner, RunSettings
    from bench.run.schedule import Cell, resolve_scenarios

    profile = settings.profile
    server_cpus, load_cpus = settings.cpu_split()
    scenarios = resolve_scenarios(profile)
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], list[str]] = {}
    for variant in trees:
        for app in apps:
            groups.setdefault((variant, tuple(settings.injected_env(variant, app).items())), []).append(app)
    with contextlib.ExitStack() as stack:
        runners: dict[tuple[str, str], tuple[CellRunner, ServerPool]] = {}
        for number, ((variant, env_items), members) in enumerate(groups.items(), start=1):
            root, env = trees[variant], dict(env_items)
            place = f"{variant}{number}"
            (workdir / place).mkdir()
            (logs_dir / place).mkdir()
            pool = stack.enter_context(
                ServerPool(
                    apps={app: load_app(app, root / "apps") for app in members},
                    db=profile.db[0],  # the gate measures on the profile's first database
                    workdir=workdir / place,
                    logs_dir=logs_dir / place,
                    workers=profile.workers,
                    threads=profile.threads,
                    server_cpus=set(server_cpus),
                    extra_env=env,
                    python=(pythons or {}).get(variant),
                )
            )
            run_settings = RunSettings(
                profile=profile,
                apps_dir=root / "apps",
                server_cpus=server_cpus,
                load_cpus=load_cpus,
                variant=variant,
                extra_env=env,
            )
            runner = CellRunner(
                run_settings,
                scenarios=scenarios,
                pools={profile.db[0]: pool},
                workdir=workdir / place,
                logs_dir=logs_dir / place,
            )
            stack.callback(runner.close)
            runners.update({(variant, app): (runner, pool) for app in members})
        verified: set[tuple[str, str]] = set()

        server_round: dict[ServerKey, int] = {}

        def measure(step: AbStep) -> ResultRow:
            cell = step.cell
            runner, pool = runners[(step.variant, cell.app)]
            if restart_for_round(server_round, (step.variant, cell.app, cell.server), step.trial):
                pool.stop(cell.app, cell.server)  # the next cell starts a new process
            row = runner.run(
                Cell(cell.app, cell.server, cell.scenario, cell.users, step.trial, profile.db[0])
            )
            running = pool.get_running(cell.app, cell.server)
            if (step.variant, cell.app) not in verified and running is not None:
                verify_tree(running.pid, root=trees[step.variant], what=f"side {step.variant} of {cell.app}")
                verified.add((step.variant, cell.app))
            return row

        yield measure


def ab_cells(profile: Profile, apps: Sequence[str]) -> list[AbCell]:
    """Return the profile's cells for these apps (B's app.toml decides the server variants)."""
    from bench.run.schedule import resolve_scenarios, resolve_targets

    specs = {app: load_app(app) for app in apps}
    return [
        AbCell(app, server, scenario, users)
        for app, server in resolve_targets(profile, specs)
        for scenario in resolve_scenarios(profile)
        for users in profile.users_for(scenario)
    ]


def run_ab(settings: AbSettings, *, console: Console | None = None, quiet: bool = False) -> Path:
    """Measure REF's apps and this tree's, interleaved; return the run folder (rows labelled A and B)."""
    from bench.run.lifecycle import default_run_id, recorded_run
    from bench.run.runner import RunSettings, pinned_to, run_settings_metadata
    from bench.run.schedule import db_label

    profile = settings.profile
    server_cpus, load_cpus = settings.cpu_split()
    seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(2**31)
    with git_worktree(settings.ref, keep=settings.keep_worktree) as (a_root, commit):
        a_python = side_a_python(a_root, commit=commit)
        apps = apps_in_both(profile, a_apps_dir=a_root / "apps")
        cells = ab_cells(profile, apps)
        schedule = ab_schedule(cells, pairs=settings.pairs, seed=seed)
        metadata = collect_metadata(
            apps=[(load_app(app), sorted({c.server for c in cells if c.app == app})) for app in apps],
            db_kinds=[db_label(profile.db[0])],
            settings=run_settings_metadata(
                RunSettings(profile=profile, server_cpus=server_cpus, load_cpus=load_cpus, variant="A/B"),
                seed=seed,
                cells=len(schedule),
            ),
            command_line=settings.command_line,
        )
        metadata.update(
            profile=profile.name,
            ab={
                "ref": settings.ref,
                "commit": commit,
                "pairs": settings.pairs,
                "inject_cpu_us": settings.inject_cpu_us,
                "inject_apps": list(settings.inject_apps),
                "variants": {VARIANT_A: f"{settings.ref} ({commit[:12]})", VARIANT_B: "working tree"},
                "environments": {
                    VARIANT_A: f"built from {settings.ref}'s {LOCK_FILE}" if a_python else "shared",
                    VARIANT_B: "this tree's",
                },
            },
        )
        display = RunDisplay(console, quiet=quiet)
        with (
            recorded_run(
                reports_dir=settings.reports_dir,
                run_id=default_run_id(f"ab-{profile.name}"),
                metadata=metadata,
            ) as run,
            scratch_directory(prefix="bench-ab-run-") as workdir,
            runner_measurer(
                settings,
                trees={VARIANT_A: a_root, VARIANT_B: ROOT},
                pythons={VARIANT_A: a_python},
                apps=apps,
                workdir=Path(workdir),
                logs_dir=run.logs_dir,
            ) as measure,
            pinned_to(load_cpus, enabled=True),
            display.progress(total=len(schedule)) as progress,
        ):
            run_schedule(schedule, measure, results_path=run.run_dir / RESULTS_FILE, progress=progress)
    return run.run_dir

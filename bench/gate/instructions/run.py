"""`bench check --mode instructions --ab REF`: count instructions per request of REF's apps and this tree's.

The same trees and environments as the wall-clock A/B (bench/gate/ab.py: REF in a git worktree, an
environment from REF's uv.lock when it differs), but each side's app runs once, under callgrind, and serves
every scenario of the profile in turn: windows of sequential requests, counted. Instruction counts do not
drift with the machine, so the sides need no interleaving; a new process per side suffices.

Each side's apps run from a copy of its apps/ folder at paths of the same length (<scratch>/A/apps and
<scratch>/B/apps), not from REF's worktree against this checkout: the interpreter's caches depend on where
objects land in memory (the type attribute cache is indexed by the name's address), and two trees at paths of
different lengths gave an unchanged Flask /db 2.7% more instructions on one side, every run, in the same
dictionary and MRO lookups (docs/gate.md).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console

from bench.config import ROOT, load_app
from bench.errors import CheckInputError
from bench.gate.ab import INJECT_CPU_ENV, ab_cells, apps_in_both, git_worktree, side_a_python
from bench.gate.instructions.callgrind import (
    HASH_SEED,
    callgrind_prefix,
    count_windows,
    counted_client,
    describe_missing,
    missing_tools,
    serving_pid,
    start_counting,
)
from bench.gate.instructions.decision import Window
from bench.gate.instructions.records import INSTRUCTIONS_FILE, InstructionCell, cells_to_dict
from bench.gate.samples import VARIANT_A, VARIANT_B
from bench.gate.settings import InstructionDefaults
from bench.run.database import prepared_database, scratch_directory
from bench.run.lifecycle import default_run_id, recorded_run
from bench.run.profiles import Profile
from bench.run.schedule import resolve_scenarios
from bench.run.servers import app_environment, run_setup, start_server

log = logging.getLogger(__name__)

SERVER_READY_TIMEOUT_S = 300.0  # start-up under valgrind, uninstrumented, took 10-30 s here
# Not a credential: the apps sign nothing on the counted GETs, but a random key per process is one more
# thing that could differ between the sides.
COUNTING_SECRET_KEY = "bench-instructions-counting-key-not-a-secret-0123456789"


# What a side's copy of apps/ leaves out: caches and what the apps' setup commands write.
COPY_IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "staticfiles", "*.sqlite3", "*.db", ".pytest_cache"
)


def side_tree(apps_dir: Path, *, workdir: Path, side: str) -> Path:
    """Copy a side's apps/ to workdir/<side>/apps and return workdir/<side>, the side's root: both sides
    then run from paths of the same length, whatever the checkout's and the worktree's."""
    root = workdir / side
    shutil.copytree(apps_dir, root / "apps", ignore=COPY_IGNORED, symlinks=True)
    return root


@dataclass(frozen=True)
class InstructionRunSettings:
    ref: str
    profile: Profile
    counting: InstructionDefaults
    reports_dir: Path
    command_line: str = ""
    keep_worktree: bool = False


def count_side(
    *,
    side: str,
    app: str,
    server: str,
    scenarios: Mapping[str, str],
    root: Path,
    python: str | None,
    counting: InstructionDefaults,
    workdir: Path,
    logs_dir: Path,
) -> dict[InstructionCell, list[Window]]:
    """Return each scenario's counted windows of one side's app (one server under callgrind for them all)."""
    spec = load_app(app, root / "apps")
    out_file = workdir / f"callgrind.{side}.{app}"
    with prepared_database("sqlite", name=f"{side}-{app}", workdir=workdir) as database_url:
        env = app_environment(
            database_url=database_url,
            secret_key=COUNTING_SECRET_KEY,
            extra={"PYTHONHASHSEED": HASH_SEED, INJECT_CPU_ENV: "0"},
        )
        run_setup(spec, env=env, python=python)
        started = time.monotonic()
        with (
            start_server(
                spec,
                env=env,
                server=server,
                workers=1,
                threads=1,
                log_path=logs_dir / f"{side}-{app}.log",
                ready_timeout_s=SERVER_READY_TIMEOUT_S,
                python=python,
                command_prefix=callgrind_prefix(out_file),
            ) as running,
            counted_client(running.base_url) as client,
        ):
            pid = serving_pid(running.pid)
            ready = time.monotonic()
            start_counting(pid)
            seen: set[Path] = set()
            counted = {}
            for scenario, path in scenarios.items():
                counted[InstructionCell(app=app, server=server, scenario=scenario)] = count_windows(
                    client,
                    pid=pid,
                    out_file=out_file,
                    path=path,
                    warmup=counting.warmup,
                    windows=counting.windows,
                    requests=counting.requests,
                    seen=seen,
                )
            log.info(
                "%s %s/%s: ready in %.0f s, counted in %.0f s",
                side,
                app,
                server,
                ready - started,
                time.monotonic() - ready,
            )
    return counted


def scenario_paths(profile: Profile) -> dict[str, str]:
    """Return the profile's scenarios that are one GET request, with its path (only those are counted)."""
    paths = {name: info.yardstick_path for name, info in resolve_scenarios(profile).items()}
    for name in sorted(name for name, path in paths.items() if not path):
        log.warning("scenario %s is not one GET request: not counted in instructions mode", name)
    counted = {name: path for name, path in paths.items() if path}
    if not counted:
        raise CheckInputError(f"no scenario of the {profile.name} profile is one GET request to count")
    return counted


def run_instructions(
    settings: InstructionRunSettings, *, console: Console | None = None, quiet: bool = False
) -> Path:
    """Count REF's apps and this tree's under callgrind; return the run folder (its instructions.json)."""
    missing = missing_tools()
    if missing:
        raise CheckInputError(describe_missing(missing))
    profile = settings.profile
    scenarios = scenario_paths(profile)
    with git_worktree(settings.ref, keep=settings.keep_worktree) as (worktree, commit):
        a_python = side_a_python(worktree, commit=commit)
        apps = apps_in_both(profile, a_apps_dir=worktree / "apps")
        targets = sorted({(cell.app, cell.server) for cell in ab_cells(profile, apps)})
        metadata = {
            "mode": "instructions",
            "profile": profile.name,
            "command_line": settings.command_line,
            "counting": asdict(settings.counting),
            "ab": {
                "ref": settings.ref,
                "commit": commit,
                "variants": {VARIANT_A: f"{settings.ref} ({commit[:12]})", VARIANT_B: "working tree"},
                "environments": {VARIANT_A: "built from REF's uv.lock" if a_python else "shared"},
            },
        }
        cells: dict[InstructionCell, dict[str, list[Window]]] = {}
        with (
            recorded_run(
                reports_dir=settings.reports_dir,
                run_id=default_run_id(f"instructions-{profile.name}"),
                metadata=metadata,
            ) as run,
            scratch_directory(prefix="bench-instructions-") as workdir,
        ):
            sides: Sequence[tuple[str, Path, str | None]] = (
                (VARIANT_A, side_tree(worktree / "apps", workdir=Path(workdir), side=VARIANT_A), a_python),
                (VARIANT_B, side_tree(ROOT / "apps", workdir=Path(workdir), side=VARIANT_B), None),
            )
            for app, server in targets:
                for side, root, python in sides:
                    if console is not None and not quiet:
                        console.print(f"counting {side} {app}/{server}: {', '.join(scenarios)}")
                    counted = count_side(
                        side=side,
                        app=app,
                        server=server,
                        scenarios=scenarios,
                        root=root,
                        python=python,
                        counting=settings.counting,
                        workdir=Path(workdir),
                        logs_dir=run.logs_dir,
                    )
                    for cell, windows in counted.items():
                        cells.setdefault(cell, {})[side] = windows
                    write_cells(run.run_dir / INSTRUCTIONS_FILE, cells)  # on disk as it goes
    return run.run_dir


def write_cells(path: Path, cells: Mapping[InstructionCell, Mapping[str, Sequence[Window]]]) -> None:
    path.write_text(json.dumps({"cells": cells_to_dict(cells)}) + "\n", encoding="utf-8")


def read_cells(run_dir: Path) -> dict[InstructionCell, dict[str, list[Window]]]:
    """Return the counted windows of an instructions run folder."""
    from bench.gate.instructions.records import cells_from_dict

    path = run_dir / INSTRUCTIONS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckInputError(f"cannot read {path}: {exc}") from None
    return cells_from_dict(data.get("cells", []))

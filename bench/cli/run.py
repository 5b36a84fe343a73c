"""`bench run`: the benchmark matrix of a profile; also a remote Locust worker (`--worker`)."""

from __future__ import annotations

import argparse
import logging
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.cli.arguments import (
    SubParsers,
    comma_list,
    console,
    cpu_set,
    log,
    positive_float,
    positive_floats,
    positive_int,
    positive_ints,
)
from bench.config import ROOT
from bench.errors import EXIT_OK, ConfigError
from bench.processes import die_with_parent, stop_process_group

if TYPE_CHECKING:
    from bench.run.runner import RunSettings


def add_run_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the benchmark matrix of a profile",
        description=(
            "Measure apps x server variants x scenarios x user counts x trials, as a profile of "
            "[tool.bench.profiles] in pyproject.toml says, with these options overriding it. Rows go to "
            "reports/<run-id>/results.jsonl as each cell ends; reports/latest points at the run."
        ),
    )
    matrix = parser.add_argument_group("the matrix (overrides the profile)")
    matrix.add_argument("--profile", default="default", help="quick, default, full... (default %(default)s)")
    matrix.add_argument("--apps", type=comma_list, help="comma-separated app names (default: all)")
    matrix.add_argument("--servers", type=comma_list, help="server variants: names, 'default' or 'all'")
    matrix.add_argument("--scenarios", type=comma_list, help="comma-separated scenario names (default: all)")
    matrix.add_argument("--users", type=positive_ints, help="user counts, e.g. 8,32,128 (for every scenario)")
    matrix.add_argument("--duration", type=positive_float, help="measured seconds per cell")
    matrix.add_argument("--warmup", type=float, help="seconds of load before the measured window")
    matrix.add_argument("--trials", type=positive_int, help="measurements of each cell")
    matrix.add_argument(
        "--min-requests",
        type=positive_int,
        help="a window also lasts until this many requests completed in it (at most --max-window s)",
    )
    matrix.add_argument(
        "--max-window", type=positive_float, help="the longest a window waits for --min-requests (s)"
    )
    matrix.add_argument(
        "--db",
        help="sqlite, postgres (a throw-away local cluster) or a DATABASE_URL; a comma list measures the "
        "database rows on each (e.g. postgres,sqlite)",
    )
    matrix.add_argument(
        "--workers", type=positive_int, help="server worker processes, the same for every app"
    )
    matrix.add_argument("--threads", type=positive_int, help="threads per worker, for threaded servers")
    matrix.add_argument(
        "--seed", type=int, help="seed of the shuffled cell order (default: random, recorded)"
    )
    latency = parser.add_argument_group("open-loop latency (the latency profile)")
    latency.add_argument(
        "--sweep",
        type=positive_floats,
        help="after each cell's closed-loop window, offer these shares of its rate open-loop, e.g. "
        "0.25,0.5,0.75,0.9,1,1.25 (then a recovery step); 'none' for no sweep",
    )
    latency.add_argument("--step", type=positive_float, help="seconds of each sweep step")
    latency.add_argument(
        "--slo-ms",
        type=positive_float,
        help="the p99 target of the capacity table (default: 10x unloaded p50)",
    )
    latency.add_argument(
        "--yardstick",
        action=argparse.BooleanOptionalAction,
        help="measure the GET scenarios with wrk too, on the same server (installs Debian's wrk if missing)",
    )
    profiling = parser.add_argument_group("CPU profiles (bench/run/profiling)")
    profiling.add_argument(
        "--profile-trial",
        action=argparse.BooleanOptionalAction,
        help="an extra, uncounted trial per cell of the profile's profile_scenarios, sampled by py-spy",
    )
    profiling.add_argument(
        "--profile-scenarios", type=comma_list, help="the scenarios profiled (default: the profile's)"
    )
    profiling.add_argument(
        "--profile-duration", type=positive_float, help="seconds of each profiled trial's window"
    )
    output = parser.add_argument_group("output")
    output.add_argument("--out", type=Path, help="reports directory (default: reports/)")
    output.add_argument("--run-id", help="name of the run's directory (default: date-time-profile)")
    output.add_argument("--variant", default="", help="label every row with this (A/B comparisons)")
    output.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    output.add_argument(
        "--dry-run",
        action="store_true",
        help="print the layout and the cells the run would measure; start nothing, write nothing",
    )
    machine = parser.add_argument_group("CPUs and load generation")
    machine.add_argument(
        "--cpus",
        type=cpu_set,
        help="the CPUs the default layout divides (default: every CPU this process may use)",
    )
    machine.add_argument(
        "--server-cpus", type=cpu_set, help="CPUs of the app server (default: the layout's; 0 on 2 cores)"
    )
    machine.add_argument(
        "--db-cpus",
        type=cpu_set,
        help="CPUs of the PostgreSQL cluster (default: the layout's; the server's on 2 cores)",
    )
    machine.add_argument(
        "--load-cpus", type=cpu_set, help="CPUs of Locust (default: the layout's; 1 on 2 cores)"
    )
    machine.add_argument(
        "--locust-workers",
        type=positive_int,
        default=0,
        help="a Locust master with N local worker processes (with --master: N remote workers to wait for; "
        "default: the layout's, one per load CPU from 4 cores on)",
    )
    machine.add_argument(
        "--master",
        action="store_true",
        help="the run's Locust master waits for --locust-workers N remote workers",
    )
    machine.add_argument(
        "--master-bind-host", default="*", help="where the master listens (default: everywhere)"
    )
    machine.add_argument(
        "--master-port", type=positive_int, default=5557, help="the master's port (default %(default)s)"
    )
    machine.add_argument(
        "--worker",
        action="store_true",
        help="be a Locust worker of a `bench run --master` elsewhere, until Ctrl-C",
    )
    machine.add_argument("--master-host", default="127.0.0.1", help="the master's address, with --worker")
    machine.add_argument("--target", help="base URL of an app already running elsewhere: measure it as it is")
    parser.add_argument("--apps-dir", type=Path, help=argparse.SUPPRESS)  # tests point it at fake apps
    parser.set_defaults(handler=command_run)


def command_run(args: argparse.Namespace) -> int:
    from bench.run.display import RunDisplay
    from bench.run.layout import default_layout, override_layout
    from bench.run.profiles import load_profile
    from bench.run.runner import RunSettings, run_benchmark

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per readiness poll is noise here
    if args.worker:
        return run_remote_worker(args)
    if args.master and not args.locust_workers:
        raise ConfigError("--master needs --locust-workers N: how many remote workers each cell waits for")
    profile = load_profile(args.profile).with_overrides(
        apps=args.apps,
        servers=args.servers,
        scenarios=args.scenarios,
        users=args.users,
        duration_s=args.duration,
        warmup_s=args.warmup,
        trials=args.trials,
        min_requests=args.min_requests,
        max_window_s=args.max_window,
        db=args.db,
        workers=args.workers,
        threads=args.threads,
        seed=args.seed,
        sweep=args.sweep,
        step_s=args.step,
        slo_ms=args.slo_ms,
        yardstick=args.yardstick,
        profile_trial=args.profile_trial,
        profile_scenarios=args.profile_scenarios,
        profile_duration_s=args.profile_duration,
    )
    if profile.sweep and args.locust_workers:
        raise ConfigError("an open-loop sweep runs in one Locust process: drop --locust-workers or --sweep")
    layout = override_layout(
        default_layout(sorted(args.cpus) if args.cpus else None),
        server_cpus=args.server_cpus,
        db_cpus=args.db_cpus,
        load_cpus=args.load_cpus,
        load_processes=args.locust_workers or None,
    )
    if profile.sweep or args.master:
        # A sweep paces its arrivals in one process; a master's workers are the remote ones it was told of.
        layout = replace(layout, load_processes=args.locust_workers or 1)
    for shared in layout.shared(with_load_only=True):
        log.warning("%s: they disturb each other", shared)
    optional: dict[str, Any] = {}
    if args.out is not None:
        optional["reports_dir"] = args.out
    if args.apps_dir is not None:
        optional["apps_dir"] = args.apps_dir
    settings = RunSettings(
        profile=profile,
        run_id=args.run_id,
        server_cpus=layout.server_cpus,
        db_cpus=layout.db_cpus,
        load_cpus=layout.load_cpus,
        # Given, it is the number of workers as it says (1: a master and one worker); else the layout's.
        locust_workers=args.locust_workers or layout.locust_workers,
        master=args.master,
        master_bind_host=args.master_bind_host,
        master_port=args.master_port,
        target=args.target.rstrip("/") if args.target else None,
        variant=args.variant,
        command_line=shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
        **optional,
    )
    if args.dry_run:
        from bench.terminal import make_console

        out = make_console(stderr=False)  # the command's answer: stdout, where a pipe can take it
        for line in dry_run_lines(settings):
            out.print(line, highlight=False, markup=False, soft_wrap=True)
        return EXIT_OK
    if profile.versions:
        from bench.run.environments.measure import run_versions

        run_dir = run_versions(settings, display=RunDisplay(console, quiet=args.quiet))
    else:
        run_dir = run_benchmark(settings, display=RunDisplay(console, quiet=args.quiet))
    console.print(f"run directory: {run_dir}")
    return EXIT_OK


def dry_run_lines(settings: RunSettings) -> list[str]:
    """Return what `bench run --dry-run` prints: the layout and the cells, as the run would lay them out."""
    from bench.run.layout import cpu_text
    from bench.run.profiling.session import profiled_cells
    from bench.run.schedule import compact_cells, plan_matrix

    profile = settings.profile
    seed = profile.seed if profile.seed is not None else 0  # the cells, not their order, are shown
    if profile.versions:
        return versions_dry_run_lines(settings, seed=seed)
    matrix = plan_matrix(profile, apps_dir=settings.apps_dir, target=settings.target, seed=seed)
    if settings.locust_workers:
        where = "remote" if settings.master else "local"
        processes = f"a master and {settings.locust_workers} {where} workers"
    else:
        processes = "1 process"
    databases = ", ".join(profile.db) if settings.target is None else "the target's own"
    lines = [
        f"profile {profile.name}: nothing is started and no run directory is written (--dry-run)",
        f"server CPUs    {cpu_text(settings.server_cpus)}",
        f"database CPUs  {cpu_text(settings.database_cpus)} (PostgreSQL, when a cell runs on it)",
        f"load CPUs      {cpu_text(settings.load_cpus)} (Locust: {processes})",
        f"databases      {databases}",
        *(f"shared         {line}" for line in settings.layout.shared()),
        f"cells          {len(matrix.schedule)}, in shuffled order",
    ]
    lines.extend(f"  {line}" for line in compact_cells(matrix.schedule, scenarios=list(matrix.scenarios)))
    if profile.profile_trial and settings.target is None:
        profiled = profiled_cells(
            matrix.schedule,
            scenarios=profile.profile_scenarios,
            default_servers={name: spec.default_server for name, spec in matrix.apps.items()},
            db=profile.db[0],
        )
        lines.append(
            f"profiled       {len(profiled)} more trial(s) of {profile.profile_duration_s:g} s, py-spy at "
            f"{profile.profile_rate_hz} Hz (not counted): "
            + ", ".join(sorted({f"{cell.app}/{cell.server} {cell.scenario}" for cell in profiled}))
        )
    return lines


def versions_dry_run_lines(settings: RunSettings, *, seed: int) -> list[str]:
    """Return what `bench run --profile versions --dry-run` prints: the environments (none is built) and the
    cells, each environment in the place of an app."""
    from bench.config import environments_cache
    from bench.run.environments.measure import environment_lines, versions_matrix, versions_schedule
    from bench.run.environments.pythons import find_pythons
    from bench.run.layout import cpu_text
    from bench.run.schedule import compact_cells

    profile = settings.profile
    matrix = versions_matrix(profile, apps_dir=settings.apps_dir, found=find_pythons())
    runnable = [environment for environment in matrix.plan.environments if environment.executable]
    schedule = versions_schedule(runnable, apps=matrix.apps, profile=profile, seed=seed)
    labelled = [replace(scheduled.cell, app=scheduled.environment) for scheduled in schedule]
    return [
        f"profile {profile.name}: nothing is built or started and no run directory is written (--dry-run)",
        f"server CPUs    {cpu_text(settings.server_cpus)}",
        f"load CPUs      {cpu_text(settings.load_cpus)}",
        f"databases      {', '.join(profile.db[:1])}",
        *environment_lines(matrix, cache=environments_cache()),
        f"cells          {len(schedule)}, in one shuffled schedule (before any incompatible one is dropped)",
        *(f"  {line}" for line in compact_cells(labelled, scenarios=list(matrix.scenarios))),
    ]


def run_remote_worker(args: argparse.Namespace) -> int:
    """Serve as a Locust worker of every cell a remote `bench run --master` measures, until interrupted."""
    command = [
        sys.executable, "-m", "bench.run.loadgen", "worker", "--forever",
        "--master-host", args.master_host, "--master-port", str(args.master_port),
    ]  # fmt: skip
    console.print(f"Locust worker for the master at {args.master_host}:{args.master_port}; Ctrl-C to stop")
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True, preexec_fn=die_with_parent)
    try:
        return process.wait()
    finally:
        stop_process_group(process)

"""Command line: python -m bench {serve,run,ui,report,check,baseline}. Every command has --help."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.logging import RichHandler

from bench.config import DEFAULT_HOST, ROOT, ConfigError, discover_apps, load_app
from bench.database import DatabaseError, prepared_database, scratch_directory
from bench.servers import ServerError, port_in_use, serve_app, stop_process_group

console = Console(stderr=True)
log = logging.getLogger("bench")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class Stop(BaseException):
    """Raised in the main thread on SIGTERM so that every context manager cleans up.

    A BaseException, like KeyboardInterrupt: no `except Exception` on the way may swallow it.
    """


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1")
    return value


def cpu_set(text: str) -> set[int]:
    """argparse type: a CPU list such as '0' or '0,2-3'."""
    cpus: set[int] = set()
    try:
        for part in text.split(","):
            low, _, high = part.partition("-")
            cpus.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a CPU list like 0 or 0,2-3") from None
    return cpus


def add_serve_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run one app in the foreground on a fresh, seeded database",
        description=(
            "Create a fresh database, run the app's setup command, start its production server and wait "
            "until GET /health answers 200. Ctrl-C or SIGTERM stops the server and everything it started."
        ),
    )
    add_app_server_arguments(parser)
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=positive_int, default=8000, help="port (default %(default)s)")
    parser.add_argument("--cpus", type=cpu_set, help="pin the server to these CPUs, e.g. 0")
    parser.set_defaults(handler=command_serve)


def add_app_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that choose an app and how it is served (serve and ui share them)."""
    parser.add_argument("--app", required=True, help=f"one of: {', '.join(discover_apps()) or 'none yet'}")
    parser.add_argument("--server", help="server variant from the app's app.toml (default: its default)")
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (default), postgres (a throw-away local cluster) or a DATABASE_URL",
    )
    parser.add_argument("--workers", type=positive_int, default=1, help="server worker processes (default 1)")
    parser.add_argument(
        "--threads", type=positive_int, default=8, help="threads per worker, for threaded servers (default 8)"
    )


def command_serve(args: argparse.Namespace) -> int:
    app = load_app(args.app)
    with (
        scratch_directory(prefix=f"bench-serve-{app.name}-") as workdir,
        prepared_database(args.db, name=app.name, workdir=Path(workdir)) as database_url,
        serve_app(
            app,
            database_url=database_url,
            server=args.server,
            host=args.host,
            port=args.port,
            workers=args.workers,
            threads=args.threads,
            cpus=args.cpus,
            log_path=Path(workdir) / "server.log",
        ) as running,
    ):
        console.print(
            f"[bold green]{app.name}[/] ({running.server}, {args.workers} worker(s)) ready at "
            f"[link]{running.base_url}[/]  database: {database_url}\n"
            f"log: {running.log_path}   Ctrl-C to stop"
        )
        while running.alive():
            threading.Event().wait(0.5)
        console.print(f"[red]server exited with code {running.process.returncode}[/]")
        console.print(running.log_tail())
        return EXIT_FAILURE
    return EXIT_OK  # pragma: no cover - the with block always returns


def add_report_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="build the HTML report of a saved run",
        description=(
            "Turn a run's results.jsonl and metadata.json into index.html (one self-contained file), "
            "comparison.md and summary.csv, written into the run's folder."
        ),
    )
    parser.add_argument(
        "run",
        nargs="?",
        help="a run folder or a run id under reports/ (default: reports/latest, the newest run)",
    )
    parser.set_defaults(handler=command_report)


def command_report(args: argparse.Namespace) -> int:
    # Imported here: pandas and matplotlib take a second to load, and the other commands do not need them.
    from bench.report import ReportError, resolve_run_dir, write_report

    try:
        files = write_report(resolve_run_dir(args.run))
    except ReportError as exc:
        console.print(f"[red]error:[/] {exc}")
        return EXIT_FAILURE
    console.print(
        f"report: [link=file://{files.html}]{files.html}[/]\n  also {files.markdown.name}, {files.csv.name}"
    )
    return EXIT_OK


def comma_list(text: str) -> list[str]:
    """argparse type: 'a,b,c' -> ['a', 'b', 'c']."""
    return [part.strip() for part in text.split(",") if part.strip()]


def positive_ints(text: str) -> list[int]:
    """argparse type: '8,32,128' -> [8, 32, 128]."""
    return [positive_int(part) for part in comma_list(text)]


def positive_float(text: str) -> float:
    """argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not above 0")
    return value


def add_run_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    matrix.add_argument("--db", help="sqlite, postgres (a throw-away local cluster) or a DATABASE_URL")
    matrix.add_argument(
        "--workers", type=positive_int, help="server worker processes, the same for every app"
    )
    matrix.add_argument("--threads", type=positive_int, help="threads per worker, for threaded servers")
    matrix.add_argument(
        "--seed", type=int, help="seed of the shuffled cell order (default: random, recorded)"
    )
    output = parser.add_argument_group("output")
    output.add_argument("--out", type=Path, help="reports directory (default: reports/)")
    output.add_argument("--run-id", help="name of the run's directory (default: date-time-profile)")
    output.add_argument("--variant", default="", help="label every row with this (A/B comparisons)")
    output.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    machine = parser.add_argument_group("CPUs and load generation")
    machine.add_argument("--server-cpus", type=cpu_set, help="CPUs of the server and database (default: 0)")
    machine.add_argument("--load-cpus", type=cpu_set, help="CPUs of Locust (default: the other ones)")
    machine.add_argument(
        "--locust-workers",
        type=positive_int,
        default=0,
        help="a Locust master with N local worker processes (with --master: N remote workers to wait for)",
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
    from bench.profiles import load_profile
    from bench.run_display import RunDisplay
    from bench.runner import RunSettings, default_cpu_split, run_benchmark

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
        db=args.db,
        workers=args.workers,
        threads=args.threads,
        seed=args.seed,
    )
    default_server_cpus, default_load_cpus = default_cpu_split()
    server_cpus = frozenset(args.server_cpus or default_server_cpus)
    load_cpus = frozenset(args.load_cpus or (default_load_cpus - server_cpus) or default_load_cpus)
    if server_cpus & load_cpus:
        log.warning(
            "server and Locust share CPU(s) %s: they disturb each other", sorted(server_cpus & load_cpus)
        )
    optional: dict[str, Any] = {}
    if args.out is not None:
        optional["reports_dir"] = args.out
    if args.apps_dir is not None:
        optional["apps_dir"] = args.apps_dir
    settings = RunSettings(
        profile=profile,
        run_id=args.run_id,
        server_cpus=server_cpus,
        load_cpus=load_cpus,
        locust_workers=args.locust_workers,
        master=args.master,
        master_bind_host=args.master_bind_host,
        master_port=args.master_port,
        target=args.target.rstrip("/") if args.target else None,
        variant=args.variant,
        command_line=shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
        **optional,
    )
    run_dir = run_benchmark(settings, display=RunDisplay(console, quiet=args.quiet))
    console.print(f"run directory: {run_dir}")
    return EXIT_OK


def run_remote_worker(args: argparse.Namespace) -> int:
    """Serve as a Locust worker of every cell a remote `bench run --master` measures, until interrupted."""
    command = [
        sys.executable, "-m", "bench.loadgen", "worker", "--forever",
        "--master-host", args.master_host, "--master-port", str(args.master_port),
    ]  # fmt: skip
    console.print(f"Locust worker for the master at {args.master_host}:{args.master_port}; Ctrl-C to stop")
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    try:
        return process.wait()
    finally:
        stop_process_group(process)


def add_ui_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ui",
        help="Locust's web UI for one scenario against one app",
        description=(
            "Start the app on a fresh, seeded database (as `bench serve` does), then Locust's web UI for the "
            "scenario against it. Both run until Ctrl-C, which stops them and everything they started."
        ),
    )
    add_app_server_arguments(parser)
    parser.add_argument("--scenario", default="mixed", help="scenario name (default %(default)s)")
    parser.add_argument(
        "--web-host", default=DEFAULT_HOST, help="address of the web UI (default %(default)s)"
    )
    parser.add_argument(
        "--web-port", type=positive_int, default=8089, help="port of the web UI (default %(default)s)"
    )
    parser.add_argument("--server-cpus", type=cpu_set, help="pin the server to these CPUs (default: 0)")
    parser.add_argument(
        "--load-cpus", type=cpu_set, help="pin Locust to these CPUs (default: the other ones)"
    )
    parser.set_defaults(handler=command_ui)


def command_ui(args: argparse.Namespace) -> int:
    from bench.runner import default_cpu_split
    from bench.scenarios import scenario_info

    app = load_app(args.app)
    scenario_info(args.scenario)
    if port_in_use(args.web_host, args.web_port):
        raise ConfigError(
            f"port {args.web_port} on {args.web_host} is already in use: choose another with --web-port"
        )
    default_server_cpus, default_load_cpus = default_cpu_split()
    load_cpus = set(args.load_cpus or default_load_cpus)
    with (
        scratch_directory(prefix=f"bench-ui-{app.name}-") as workdir,
        prepared_database(args.db, name=app.name, workdir=Path(workdir)) as database_url,
        serve_app(
            app,
            database_url=database_url,
            server=args.server,
            workers=args.workers,
            threads=args.threads,
            cpus=set(args.server_cpus or default_server_cpus),
            log_path=Path(workdir) / "server.log",
        ) as running,
    ):
        command = [
            sys.executable, "-m", "bench.loadgen", "ui", "--scenario", args.scenario,
            "--host", running.base_url, "--web-host", args.web_host, "--web-port", str(args.web_port),
        ]  # fmt: skip
        process = subprocess.Popen(
            command, cwd=ROOT, start_new_session=True, preexec_fn=lambda: os.sched_setaffinity(0, load_cpus)
        )
        try:
            console.print(
                f"[bold green]{app.name}[/] ({running.server}) at {running.base_url}; Locust's web UI for "
                f"[bold]{args.scenario}[/] at [link]http://{args.web_host}:{args.web_port}[/]  Ctrl-C to stop"
            )
            while process.poll() is None and running.alive():
                threading.Event().wait(0.5)
            if not running.alive():
                console.print(f"[red]the server exited with code {running.process.returncode}[/]")
                console.print(running.log_tail())
                return EXIT_FAILURE
            return EXIT_FAILURE if process.returncode else EXIT_OK
        finally:
            stop_process_group(process)


def fraction(text: str) -> float:
    """argparse type: a fraction written 0.1 or 10%."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction like 0.1 or 10%") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1 (0% and 100%)")
    return value


def add_check_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="CI regression gate: judge a run against the baseline, or A/B against a git revision",
        description=(
            "Judge each cell and metric of a saved run: better, worse, unchanged or inconclusive, with the "
            "change's confidence interval. A plain run is compared with a stored baseline (`bench baseline "
            "save`); an A/B run (made by --ab) pair by pair. Exit code 1 on a regression (or new errors), "
            "2 when the input is unusable or nothing could be judged, 0 otherwise."
        ),
    )
    parser.add_argument("run", nargs="?", help="run folder or run id (default: reports/latest)")
    parser.add_argument(
        "--baseline", type=Path, help="baseline file (default: baselines/<run's profile>.json)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the verdicts to FILE as JSON")
    parser.add_argument(
        "--force", action="store_true", help="compare with a baseline from another environment (warned)"
    )
    decision = parser.add_argument_group("decision (defaults from [tool.bench.check] in pyproject.toml)")
    decision.add_argument("--min-effect", type=fraction, help="smallest slowdown that counts (default 10%%)")
    decision.add_argument("--false-alarm-rate", type=fraction, help="of the whole check (default 5%%)")
    decision.add_argument("--confidence", type=fraction, help="of each interval (default: from the above)")
    decision.add_argument("--max-cv", type=fraction, help="noisier samples are inconclusive (default 10%%)")
    decision.add_argument("--min-samples", type=positive_int, help="valid trials per side (default 3)")
    decision.add_argument("--min-pairs", type=positive_int, help="valid A/B pairs (default 5)")
    decision.add_argument("--method", help="against a baseline: mannwhitney (default) or bootstrap")
    decision.add_argument("--paired-method", help="A/B: t (default), wilcoxon or bootstrap")
    decision.add_argument(
        "--metric",
        action="append",
        help="a metric that gates (repeat; default: cpu_ms_per_request, and rps in A/B)",
    )
    decision.add_argument("--strict", action="store_true", help="inconclusive cells fail the check too")
    ab = parser.add_argument_group("A/B mode: measure another revision and this tree, interleaved")
    ab.add_argument("--ab", metavar="REF", help="git revision of side A (B is the working tree)")
    ab.add_argument("--pairs", type=positive_int, help="A/B pairs per cell")
    ab.add_argument(
        "--profile", help="profile whose matrix is measured (default [tool.bench.check] ab_profile)"
    )
    ab.add_argument("--apps", help="comma-separated apps (default: the profile's)")
    ab.add_argument("--scenarios", help="comma-separated scenarios (default: the profile's)")
    ab.add_argument("--users", type=positive_int, help="user count of every scenario")
    ab.add_argument("--duration", type=float, help="measured seconds per cell")
    ab.add_argument("--warmup", type=float, help="seconds of load before the window")
    ab.add_argument("--db", help="sqlite, postgres or a DATABASE_URL")
    ab.add_argument("--seed", type=int, help="seed of the cell order (default: random, recorded)")
    ab.add_argument("--inject-cpu-us", type=int, default=0, help="B's apps burn N µs of CPU per request")
    ab.add_argument("--inject-app", action="append", help="only this app of B burns it (repeatable)")
    ab.add_argument("--server-cpus", type=cpu_set, help="CPUs of the servers (default: 0)")
    ab.add_argument("--load-cpus", type=cpu_set, help="CPUs of Locust (default: the other ones)")
    ab.add_argument("--keep-worktree", action="store_true", help="leave side A's worktree for inspection")
    ab.add_argument("--out", type=Path, help="reports directory of the A/B run (default: reports/)")
    ab.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=command_check)


def command_check(args: argparse.Namespace) -> int:
    from bench.check import (
        CheckInputError,
        check_run,
        gate_settings,
        output_console,
        print_outcome,
        resolve_run_dir,
        write_json,
    )

    settings = gate_settings(
        min_effect=args.min_effect,
        false_alarm_rate=args.false_alarm_rate,
        confidence=args.confidence,
        max_cv=args.max_cv,
        min_samples=args.min_samples,
        min_pairs=args.min_pairs,
        independent_method=args.method,
        paired_method=args.paired_method,
        gate_metrics=args.metric,
        fail_on_inconclusive=args.strict or None,
    )
    try:
        run_dir = run_ab_from_args(args) if args.ab else resolve_run_dir(args.run)
        outcome = check_run(run_dir, settings=settings, baseline_path=args.baseline, force=args.force)
    except CheckInputError as exc:
        console.print(f"[red]error:[/] {exc}")
        return EXIT_USAGE
    print_outcome(outcome, output_console())
    if args.json:
        write_json(outcome, args.json)
    if outcome.report.failed:
        return EXIT_FAILURE
    return EXIT_OK if outcome.report.judged else EXIT_USAGE


def run_ab_from_args(args: argparse.Namespace) -> Path:
    from bench.ab import AbSettings, run_ab

    settings = AbSettings.from_config(
        ref=args.ab,
        pairs=args.pairs,
        profile=args.profile,
        apps=args.apps.split(",") if args.apps else None,
        scenarios=args.scenarios.split(",") if args.scenarios else None,
        users=[args.users] if args.users else None,
        duration_s=args.duration,
        warmup_s=args.warmup,
        db=args.db,
        seed=args.seed,
        inject_cpu_us=args.inject_cpu_us,
        inject_apps=tuple(args.inject_app or ()),
        server_cpus=args.server_cpus,
        load_cpus=args.load_cpus,
        keep_worktree=args.keep_worktree,
        reports_dir=args.out,
        command_line=shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
    )
    run_dir: Path = run_ab(settings, console=console, quiet=args.quiet)
    return run_dir


def add_baseline_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "baseline",
        help="save a run as the regression baseline, or show one",
        description="Baselines for `bench check`: per-cell samples with the environment they come from.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    save = actions.add_parser(
        "save",
        help="save runs as a baseline",
        description=(
            "Write the valid trials of each cell (cpu_ms_per_request and rps) and the run's machine, CPU "
            "split, Python and package versions to baselines/<profile>.json. Several runs pool their trials."
        ),
    )
    save.add_argument("runs", nargs="*", help="run folders or run ids (default: reports/latest)")
    save.add_argument("--out", type=Path, help="baseline file to write (default: baselines/<profile>.json)")
    save.add_argument("--force", action="store_true", help="save runs from different environments anyway")
    save.set_defaults(handler=command_baseline_save)
    show = actions.add_parser(
        "show", help="print a baseline", description="Print a baseline's cells and origin."
    )
    show.add_argument("file", type=Path, help="baseline file, e.g. baselines/quick.json")
    show.set_defaults(handler=command_baseline_show)


def command_baseline_save(args: argparse.Namespace) -> int:
    from bench.baseline import BaselineError, build_baseline, default_baseline_path, read_run, save_baseline
    from bench.check import CheckInputError, resolve_run_dir

    try:
        run_dirs = [resolve_run_dir(run) for run in args.runs or [None]]
        runs = [(run_dir, *read_run(run_dir)) for run_dir in run_dirs]
        path = args.out or default_baseline_path(runs[0][2])
        document = build_baseline(runs, name=path.stem, force=args.force)
        save_baseline(document, path)
    except (BaselineError, CheckInputError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return EXIT_USAGE
    console.print(f"baseline: {path} ({len(document['cells'])} cells from {len(runs)} run(s))")
    return EXIT_OK


def command_baseline_show(args: argparse.Namespace) -> int:
    from bench.baseline import BaselineError, load_baseline
    from bench.check import output_console, print_baseline

    try:
        print_baseline(load_baseline(args.file), output_console())
    except BaselineError as exc:
        console.print(f"[red]error:[/] {exc}")
        return EXIT_USAGE
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="framework-bench: FastAPI, Flask and Django on one contract, measured.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_parser(subparsers)
    add_report_parser(subparsers)
    add_run_parser(subparsers)
    add_ui_parser(subparsers)
    add_check_parser(subparsers)
    add_baseline_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command in ("serve", "check", "baseline"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    # One line per HTTP request (readiness polls) would drown the progress display.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        result: int = args.handler(args)
        return result
    except (ConfigError, DatabaseError, ServerError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILURE
    except (KeyboardInterrupt, Stop):
        console.print("stopped; every process it started is stopped too")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

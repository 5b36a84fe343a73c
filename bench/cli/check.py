"""`bench check` (the regression gate, against a baseline or A/B) and `bench baseline save|show`."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cli.arguments import SubParsers, console, cpu_set, fraction, positive_int
from bench.config import env_value
from bench.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CheckInputError
from bench.gate.settings import AbDefaults

if TYPE_CHECKING:
    from bench.gate.instructions.judge import InstructionReport
    from bench.gate.settings import GateSettings

MODE_INSTRUCTIONS, MODE_WALLCLOCK = "instructions", "wallclock"
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"  # the file GitHub Actions shows on a run's summary page


def add_check_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
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
        "--markdown",
        type=Path,
        metavar="FILE",
        help=f"also write the verdicts to FILE as Markdown (and to ${STEP_SUMMARY_ENV} when it is set)",
    )
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
    ab.add_argument(
        "--mode",
        choices=(MODE_INSTRUCTIONS, MODE_WALLCLOCK),
        help=(
            "instructions: count instructions per request under callgrind (the default when valgrind is "
            "installed); wallclock: interleaved Locust pairs, CPU time per request"
        ),
    )
    ab.add_argument(
        "--instructions-min-effect",
        type=fraction,
        help="instructions mode: smallest change that counts (default 1%%)",
    )
    ab.add_argument(
        "--windows", type=positive_int, help="instructions mode: counted windows per side (default 5)"
    )
    ab.add_argument(
        "--requests", type=positive_int, help="instructions mode: requests per window (default 60)"
    )
    ab.add_argument(
        "--pairs", type=positive_int, help=f"A/B pairs per cell (default {AbDefaults.pairs}, or ab_pairs)"
    )
    ab.add_argument(
        "--profile", help=f"profile whose matrix is measured (default {AbDefaults.profile}, or ab_profile)"
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
    from bench.gate.settings import gate_settings

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
    notes: list[str] = []
    saved_counts = saved_instructions_run(args.run) if not args.ab else None
    if args.ab:
        mode, note = choose_mode(args.mode)
        notes += [note] if note else []
        if mode == MODE_INSTRUCTIONS:
            return check_instructions(args, run_dir=run_instructions_from_args(args), settings=settings)
    elif saved_counts is not None:
        return check_instructions(args, run_dir=saved_counts, settings=settings)
    return check_wallclock(args, settings=settings, notes=notes)


def choose_mode(asked: str | None) -> tuple[str, str]:
    """Return the A/B mode to run, and a note when it falls back to wall-clock for want of valgrind."""
    from bench.gate.instructions.callgrind import describe_missing, missing_tools

    if asked == MODE_WALLCLOCK:
        return MODE_WALLCLOCK, ""
    missing = missing_tools()
    if not missing:
        return MODE_INSTRUCTIONS, ""
    if asked == MODE_INSTRUCTIONS:
        raise CheckInputError(f"--mode instructions: {describe_missing(missing)}")
    return MODE_WALLCLOCK, (
        f"Judged on wall-clock time, not instructions: {describe_missing(missing)}. "
        "Wall-clock pairs are noisy on shared machines (see docs/gate.md)."
    )


def saved_instructions_run(run: str | None) -> Path | None:
    """Return the folder of a saved instructions run named by run, or None when it names another kind."""
    from bench.config import REPORTS_DIR
    from bench.gate.instructions.records import INSTRUCTIONS_FILE
    from bench.results import LATEST_LINK

    candidates = [REPORTS_DIR / LATEST_LINK] if run is None else [Path(run), REPORTS_DIR / run]
    for candidate in candidates:
        if (candidate / INSTRUCTIONS_FILE).is_file():
            return candidate.resolve()
    return None


def write_markdown(args: argparse.Namespace, text: str) -> None:
    """Write the Markdown verdicts to --markdown FILE, and append them to the CI's step summary if named."""
    targets = [(args.markdown, "w")] if args.markdown else []
    summary = env_value(STEP_SUMMARY_ENV)
    if summary:
        targets.append((Path(summary), "a"))
    for path, how in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open(how, encoding="utf-8") as out:
            out.write(text)


def write_instructions_json(report: InstructionReport, path: Path, *, run_dir: Path) -> None:
    """Write an instructions check's verdicts as JSON (what `bench gate-rates --corpus` reads back)."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**report.to_dict(), "run_dir": str(run_dir)}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def check_instructions(args: argparse.Namespace, *, run_dir: Path, settings: GateSettings) -> int:
    from bench.gate.instructions.display import print_instruction_report
    from bench.gate.instructions.judge import judge_cells
    from bench.gate.instructions.run import read_cells
    from bench.gate.markdown import instructions_markdown
    from bench.gate.settings import instruction_defaults
    from bench.terminal import make_console

    counting = instruction_defaults(
        min_effect=args.instructions_min_effect, windows=args.windows, requests=args.requests
    )
    report = judge_cells(
        read_cells(run_dir),
        settings=counting,
        false_alarm_rate=settings.false_alarm_rate,
        confidence=settings.confidence,
    )
    if not report.verdicts:
        raise CheckInputError(f"no cell of {run_dir} was counted on both sides")
    print_instruction_report(
        report, make_console(stderr=False), header=f"run {run_dir}: instructions per request"
    )
    if args.json:
        write_instructions_json(report, args.json, run_dir=run_dir)
    write_markdown(args, instructions_markdown(report, title="Performance gate: instructions per request"))
    if report.failed:
        return EXIT_FAILURE
    return EXIT_OK if report.judged else EXIT_USAGE


def check_wallclock(args: argparse.Namespace, *, settings: GateSettings, notes: list[str]) -> int:
    from rich.text import Text

    from bench.gate.markdown import wallclock_markdown
    from bench.gate.verdicts import check_run, print_outcome, summary_line, write_json
    from bench.results import find_run_dir
    from bench.terminal import make_console

    run_dir = run_ab_from_args(args) if args.ab else find_run_dir(args.run)
    outcome = check_run(run_dir, settings=settings, baseline_path=args.baseline, force=args.force)
    console = make_console(stderr=False)
    for note in notes:
        console.print(f"[bold yellow]{note}[/]")
    print_outcome(outcome, console)
    if args.json:
        write_json(outcome, args.json, notes=notes)
    mechanism = "wall-clock A/B" if outcome.report.mode == "ab" else "against the baseline"
    write_markdown(
        args,
        wallclock_markdown(
            outcome.report,
            title=f"Performance gate: {mechanism}",
            summary=Text.from_markup(summary_line(outcome.report)).plain,
            notes=notes,
        ),
    )
    if outcome.report.failed:
        return EXIT_FAILURE
    return EXIT_OK if outcome.report.judged else EXIT_USAGE


def run_instructions_from_args(args: argparse.Namespace) -> Path:
    from bench.config import REPORTS_DIR
    from bench.gate.instructions.run import InstructionRunSettings, run_instructions
    from bench.gate.settings import ab_defaults, instruction_defaults
    from bench.run.profiles import load_profile

    profile = load_profile(args.profile or ab_defaults().profile).with_overrides(
        apps=args.apps.split(",") if args.apps else None,
        scenarios=args.scenarios.split(",") if args.scenarios else None,
    )
    settings = InstructionRunSettings(
        ref=args.ab,
        profile=profile,
        counting=instruction_defaults(
            min_effect=args.instructions_min_effect, windows=args.windows, requests=args.requests
        ),
        reports_dir=args.out or REPORTS_DIR,
        command_line=shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
        keep_worktree=args.keep_worktree,
    )
    run_dir: Path = run_instructions(settings, console=console, quiet=args.quiet)
    return run_dir


def run_ab_from_args(args: argparse.Namespace) -> Path:
    from bench.gate.ab import AbSettings, run_ab

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


def add_baseline_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
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
    from bench.gate.baseline import build_baseline, default_baseline_path, save_baseline
    from bench.results import find_run_dir, read_run

    run_dirs = [find_run_dir(run) for run in args.runs or [None]]
    runs = [(run_dir, *read_run(run_dir)) for run_dir in run_dirs]
    path = args.out or default_baseline_path(runs[0][2])
    document = build_baseline(runs, name=path.stem, force=args.force)
    save_baseline(document, path)
    console.print(f"baseline: {path} ({len(document['cells'])} cells from {len(runs)} run(s))")
    return EXIT_OK


def command_baseline_show(args: argparse.Namespace) -> int:
    from bench.gate.baseline import load_baseline
    from bench.gate.verdicts import print_baseline
    from bench.terminal import make_console

    print_baseline(load_baseline(args.file), make_console(stderr=False))
    return EXIT_OK

"""`bench report` (the HTML report of a saved run) and `bench repeatability` (the spread across runs)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from bench.cli.arguments import SubParsers, console, fraction
from bench.errors import EXIT_OK, UsageError
from bench.noise import TIE_MARGIN


def add_report_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="build the HTML report of a saved run",
        description=(
            "Turn a run's results.jsonl and metadata.json into index.html (one self-contained file), "
            "comparison.md and summary.csv, written into the run's folder. The comparison table's Community "
            "row shows the facts stored in the run's community.json; --refresh-community fetches them first."
        ),
    )
    parser.add_argument(
        "run",
        nargs="?",
        help="a run folder or a run id under reports/ (default: reports/latest, the newest run)",
    )
    parser.add_argument(
        "--refresh-community",
        action="store_true",
        help=(
            "first fetch each framework's release facts from PyPI into the run's community.json (one request "
            "per framework; a framework PyPI does not answer for stays 'not fetched')"
        ),
    )
    parser.add_argument(
        "--slo-ms",
        type=float,
        metavar="MS",
        help=(
            "the p99 target (milliseconds) of the open-loop section's capacity table, for every scenario "
            "(default: the run profile's slo_ms, else 10x each scenario's unloaded p50)"
        ),
    )
    parser.add_argument(
        "--tie-margin",
        type=fraction,
        default=TIE_MARGIN,
        metavar="FRACTION",
        help=(
            "the smallest difference the report calls a lead: '>' only when the whole interval of two apps' "
            f"ratio lies beyond it, otherwise '≈' (default {TIE_MARGIN * 100:.0f}%%)"
        ),
    )
    parser.set_defaults(handler=command_report)


def command_report(args: argparse.Namespace) -> int:
    # Imported here: pandas and matplotlib take a second to load, and the other commands do not need them.
    from bench.report.build import refresh_run_community, write_report
    from bench.report.latency.targets import (
        validate_slo_ms,
    )
    from bench.results import find_run_dir

    if args.slo_ms is not None:
        validate_slo_ms(args.slo_ms, where="--slo-ms")
    run_dir = find_run_dir(args.run)
    if is_versions_run(run_dir):
        return report_versions(run_dir)
    if args.refresh_community:
        community = refresh_run_community(run_dir)
        fetched = sorted(name for name, entry in community.entries.items() if entry.facts is not None)
        missing = sorted(name for name, entry in community.entries.items() if entry.facts is None)
        # Not an error: the report is still built, and its Community row says which are not fetched.
        console.print(
            f"community: {community.path} has PyPI's facts for {', '.join(fetched) or 'no framework'}"
            + (f"; not fetched: {', '.join(missing)}" if missing else "")
        )
    files = write_report(run_dir, slo_ms=args.slo_ms, tie_margin=args.tie_margin)
    console.print(
        f"report: [link=file://{files.html}]{files.html}[/]\n  also {files.markdown.name}, {files.csv.name}"
    )
    return EXIT_OK


def is_versions_run(run_dir: Path) -> bool:
    """Return whether the run measured environments (a versions profile): its report is the versions one."""
    from bench.results import METADATA_FILE, read_metadata

    path = run_dir / METADATA_FILE
    return path.is_file() and "versions" in read_metadata(path)


def report_versions(run_dir: Path) -> int:
    """Judge a versions run's steps with the gate's rule into versions-steps.json, then write its versions
    report (the per-app report would pool every release of an app into one cell, so it is not written)."""
    import json

    from bench.gate.settings import gate_settings
    from bench.gate.steps import judge_steps
    from bench.report.versions import STEPS_FILE, write_versions_report
    from bench.results import read_run

    rows, metadata = read_run(run_dir)
    metadata = metadata or {}
    profile = metadata.get("settings", {}).get("profile", {})
    steps = judge_steps(
        rows,
        versions=metadata["versions"],
        scenarios=list(profile.get("scenarios", [])),
        settings=gate_settings(),
        trials=int(profile.get("trials", 3)),
    )
    (run_dir / STEPS_FILE).write_text(json.dumps([step.as_record() for step in steps], indent=2) + "\n")
    files = write_versions_report(run_dir)
    console.print(
        f"versions report: {files.html}\n  also {files.markdown.name}, {files.csv.name}, {STEPS_FILE}"
    )
    return EXIT_OK


def add_repeatability_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "repeatability",
        help="how much each cell moved between repeated runs",
        description=(
            "For runs of one profile (e.g. 5 repeats of `bench run --profile quick`), print per cell the "
            "median and the coefficient of variation across the runs of requests/s (runs neither "
            "generator-bound nor failed) and of CPU-ms per request (runs that did not fail), against the 5% "
            "goal. Each run contributes its median over trials. `cpu ms/req rel. CV` is the spread of the "
            "comparison between apps: each cell's CPU per request relative to the geometric mean of the same "
            "scenario's cells in the same run, in which drift of the machine between runs cancels."
        ),
    )
    parser.add_argument("runs", nargs="+", help="run folders or run ids under reports/ (two or more)")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="also write the table to FILE")
    parser.set_defaults(handler=command_repeatability)


def _cv_text(value: float, *, goal: float) -> str:
    if math.isnan(value):
        return "-"
    text = f"{value:.1%}"
    return text if value <= goal else f"[red]{text}[/]"


def command_repeatability(args: argparse.Namespace) -> int:
    from rich.table import Table

    from bench import columns as c
    from bench.report import aggregate as a
    from bench.report.build import load_run
    from bench.report.repeatability import (
        CPU_RELATIVE,
        ERROR_RUNS,
        GENERATOR_BOUND_RUNS,
        GOAL_CV,
        RUNS,
        SPREAD_METRICS,
        spread_across_runs,
        within_goal,
    )
    from bench.results import find_run_dir
    from bench.terminal import make_console

    if len(args.runs) < 2:
        raise UsageError("give two runs or more: a spread needs repeats")
    frames = [load_run(find_run_dir(run))[0] for run in args.runs]
    spread = spread_across_runs(frames)
    title = f"spread across {len(frames)} runs (CV above {GOAL_CV:.0%} in red)"
    table = Table(title=title, title_justify="left")
    for name in ("app", "server", "scenario", "users", "runs", "rps median", "rps CV", "cpu ms/req median"):
        table.add_column(name, justify="left" if name in ("app", "server", "scenario") else "right")
    for name in ("cpu ms/req CV", "cpu ms/req rel. CV", "generator-bound runs", "failed runs"):
        table.add_column(name, justify="right")
    for _, cell in spread.iterrows():
        table.add_row(
            str(cell[c.APP]),
            str(cell[c.SERVER]),
            str(cell[c.SCENARIO]),
            str(cell[c.USERS]),
            str(cell[RUNS]),
            "-" if math.isnan(cell[a.median_of(c.RPS)]) else f"{cell[a.median_of(c.RPS)]:,.0f}",
            _cv_text(cell[a.cv_of(c.RPS)], goal=GOAL_CV),
            f"{cell[a.median_of(c.CPU_MS_PER_REQUEST)]:.3f}",
            _cv_text(cell[a.cv_of(c.CPU_MS_PER_REQUEST)], goal=GOAL_CV),
            _cv_text(cell[a.cv_of(CPU_RELATIVE)], goal=GOAL_CV),
            str(cell[GENERATOR_BOUND_RUNS]),
            str(cell[ERROR_RUNS]),
        )
    out = make_console(stderr=False)
    out.print(table)
    for metric in (*SPREAD_METRICS, CPU_RELATIVE):
        met, judged = within_goal(spread, metric)
        out.print(f"{metric}: CV at most {GOAL_CV:.0%} in {met} of {judged} cells")
    if args.csv:
        spread.to_csv(args.csv, index=False)
    return EXIT_OK

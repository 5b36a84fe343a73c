"""`bench gate-rates`: the regression gate's detection and false-alarm rates over a series of A/B runs."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from rich.table import Table

from bench.cli.arguments import SubParsers
from bench.errors import EXIT_OK


def add_gate_rates_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gate-rates",
        help="detection and false-alarm rates of the gate over a series of A/B runs",
        description=(
            "Judge every A/B run given (made by `bench check --ab`, some with --inject-cpu-us) twice: pair "
            "by pair, and against an earlier run's A side as a stored baseline. Print each run's verdicts "
            "and, per mechanism, how many injected runs were detected and how many clean runs failed. Runs "
            "are taken in the order of their ids (their start times)."
        ),
    )
    parser.add_argument("runs", nargs="+", help="A/B run folders or run ids under reports/")
    parser.add_argument(
        "--baseline-from",
        choices=("previous", "first"),
        default="previous",
        help="the stored baseline is the A side of the previous run (default) or of the first run",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every judgement to FILE")
    parser.set_defaults(handler=command_gate_rates)


def _share(count: int, total: int) -> str:
    return f"{count}/{total} ({count / total:.0%})" if total else "0/0"


def command_gate_rates(args: argparse.Namespace) -> int:
    from bench.errors import CheckInputError
    from bench.gate.rates import SeriesRun, gate_rates, judge_series
    from bench.gate.samples import is_ab_run
    from bench.gate.settings import gate_settings
    from bench.results import find_run_dir, read_run
    from bench.terminal import make_console

    run_dirs = sorted({find_run_dir(run) for run in args.runs}, key=lambda path: path.name)
    series = []
    for run_dir in run_dirs:
        rows, metadata = read_run(run_dir)
        if not is_ab_run(rows):
            raise CheckInputError(f"{run_dir} is not an A/B run (made by `bench check --ab REF`)")
        series.append(SeriesRun.from_run(run_dir.name, rows, metadata))
    judgements = judge_series(series, settings=gate_settings(), baseline_from=args.baseline_from)
    out = make_console(stderr=False)
    table = Table(title="each run, judged by each mechanism", title_justify="left")
    for name in ("run", "injected", "mode", "check", "injected app's cells (change, verdict)", "worse"):
        table.add_column(name)
    for judgement in judgements:
        apps = ",".join(judgement.injected_apps)
        injected = f"{apps} +{judgement.inject_cpu_us} µs" if judgement.injected else "-"
        changes = "; ".join(
            f"{label} {'?' if change is None else f'{change:+.1%}'} {verdict}"
            for label, change, verdict in judgement.injected_changes
        )
        if judgement.injected:
            check = "[green]detected[/]" if judgement.detected else "[red]missed[/]"
        else:
            check = "[red]false alarm[/]" if judgement.failed else "[green]passed[/]"
        table.add_row(judgement.run_id, injected, judgement.mode, check, changes, ", ".join(judgement.worse))
    out.print(table)
    rates = gate_rates(judgements)
    for rate in rates:
        out.print(
            f"[bold]{rate.mode}[/]: injected runs detected {_share(rate.detected, rate.injected_runs)}, "
            f"clean runs failed (false alarms) {_share(rate.false_alarms, rate.clean_runs)}; injected runs "
            f"where another app was judged worse too {_share(rate.stray_in_injected, rate.injected_runs)}"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "runs": [run.name for run in run_dirs],
                    "judgements": [asdict(j) for j in judgements],
                    "rates": [asdict(r) for r in rates],
                },
                indent=2,
            )
            + "\n"
        )
    return EXIT_OK

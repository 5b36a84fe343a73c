"""`bench gate-rates`: the regression gate's detection and false-alarm rates, over a series of A/B runs (some
with an injected slowdown) or over a campaign of checks of the corpus of real changes (`--corpus DIR`)."""

from __future__ import annotations

import argparse
import json
import tomllib
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from bench.cli.arguments import SubParsers
from bench.errors import EXIT_OK, CheckInputError

if TYPE_CHECKING:
    from bench.gate.corpus_rates import JudgedRun

DEFAULT_MANIFEST = Path("tests/gate_corpus/manifest.toml")


def add_gate_rates_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gate-rates",
        help="detection and false-alarm rates of the gate, over A/B runs or a campaign over the corpus",
        description=(
            "Either judge every A/B run given (made by `bench check --ab`, some with --inject-cpu-us) twice: "
            "pair by pair, and against an earlier run's A side as a stored baseline; print each run's "
            "verdicts and, per mechanism, how many injected runs were detected and how many clean runs "
            "failed (runs in the order of their ids). Or, with --corpus DIR, read the JSON verdicts of a "
            "campaign over tests/gate_corpus (DIR/<patch stem or unchanged>[-<mechanism>]-r<round>-b<0|1>"
            ".json, b1 beside a busy loop; docs/gate.md) and print, per mechanism, the detection rate per "
            "size of the change and the false alarms of the unchanged runs."
        ),
    )
    parser.add_argument("runs", nargs="*", help="A/B run folders or run ids under reports/")
    parser.add_argument(
        "--corpus", type=Path, metavar="DIR", help="a campaign's folder of `bench check --json` files instead"
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=DEFAULT_MANIFEST,
        help=f"with --corpus: the corpus's patches, cells and expected sizes (default {DEFAULT_MANIFEST})",
    )
    parser.add_argument(
        "--markdown", type=Path, metavar="FILE", help="with --corpus: also write the tables as Markdown"
    )
    parser.add_argument(
        "--chart", type=Path, metavar="FILE.svg", help="with --corpus: also draw detection against size (SVG)"
    )
    parser.add_argument(
        "--baseline-from",
        choices=("previous", "first"),
        default="previous",
        help="the stored baseline is the A side of the previous run (default) or of the first run",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="also write every judgement (or the corpus figures) to FILE",
    )
    parser.set_defaults(handler=command_gate_rates)


def _share(count: int, total: int) -> str:
    return f"{count}/{total} ({count / total:.0%})" if total else "0/0"


def command_gate_rates(args: argparse.Namespace) -> int:
    if args.corpus and args.runs:
        raise CheckInputError("give A/B runs or --corpus DIR, not both")
    if args.corpus:
        return command_corpus_rates(args)
    if not args.runs:
        raise CheckInputError(
            "give A/B runs (folders or run ids) or --corpus DIR (a campaign over the corpus)"
        )
    if args.markdown or args.chart:
        raise CheckInputError("--markdown and --chart go with --corpus DIR")
    return command_series_rates(args)


def command_series_rates(args: argparse.Namespace) -> int:
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


def read_campaign(directory: Path) -> list[JudgedRun]:
    """Return the campaign's checks in directory: each JSON verdict file, with the wall time its log gives,
    and each finished log without a JSON (a check that ended before any verdict)."""
    from bench.gate.corpus_rates import judged_run, log_outcome, parse_run_name, run_without_verdicts

    if not directory.is_dir():
        raise CheckInputError(f"{directory} is not a folder")
    logs = {path.stem: log_outcome(path.read_text(encoding="utf-8")) for path in directory.glob("*.log")}
    runs = []
    for path in sorted(directory.glob("*.json")):
        name = parse_run_name(path.stem)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CheckInputError(f"{path} is not JSON ({exc})") from None
        outcome = logs.get(path.stem)
        runs.append(judged_run(name, data, check_seconds=outcome[1] if outcome else None))
    # A name without a mechanism ran the one the other names without one ran (the instructions campaign's
    # names carry none; a wall-clock campaign's in the same folder then must).
    seen = [run.mechanism for run in runs if run.name.mechanism is None]
    for stem, outcome in sorted(logs.items()):
        if outcome is None or (directory / f"{stem}.json").exists():
            continue  # still running, or judged above
        runs.append(
            run_without_verdicts(
                parse_run_name(stem), exit_code=outcome[0], check_seconds=outcome[1], mechanisms_seen=seen
            )
        )
    if not runs:
        raise CheckInputError(
            f"no checks in {directory} (<name>-r<round>-b<busy>.json from `bench check --json`)"
        )
    return runs


def command_corpus_rates(args: argparse.Namespace) -> int:
    from bench.gate.corpus_rates import changes_from_manifest, corpus_rates
    from bench.gate.corpus_tables import (
        MECHANISM_HEADER,
        PATCH_HEADER,
        corpus_markdown,
        mechanism_rows,
        not_judged_lines,
        patch_rows,
    )
    from bench.terminal import make_console

    try:
        manifest = tomllib.loads(args.manifest.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CheckInputError(f"manifest {args.manifest}: {exc}") from None
    rates = corpus_rates(changes_from_manifest(manifest), read_campaign(args.corpus))
    out = make_console(stderr=False)
    for rate in rates:
        table = Table(title=f"{rate.mechanism}: detection by size of the change", title_justify="left")
        for name in MECHANISM_HEADER:
            table.add_column(name, justify="left" if name == MECHANISM_HEADER[0] else "right")
        for row in mechanism_rows(rate):
            table.add_row(*row)
        out.print(table)
    patches = Table(title="each patch", title_justify="left")
    for name in PATCH_HEADER:
        patches.add_column(name)
    for row in patch_rows(rates):
        patches.add_row(*row)
    out.print(patches)
    for line in not_judged_lines(rates):
        out.print(f"[yellow]not judged[/] {line}")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(corpus_markdown(rates), encoding="utf-8")
    if args.chart:
        from bench.gate.corpus_chart import detection_svg

        args.chart.parent.mkdir(parents=True, exist_ok=True)
        args.chart.write_text(detection_svg(rates), encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps([asdict(rate) for rate in rates], indent=2) + "\n", encoding="utf-8")
    return EXIT_OK

"""Command line: python -m bench COMMAND; `python -m bench --help` lists them, and each has --help.

One module per command family; this one assembles the parser and runs the chosen handler.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from bench.cli.arguments import Stop, console, raise_stop
from bench.cli.check import add_baseline_parser, add_check_parser
from bench.cli.gate_rates import add_gate_rates_parser
from bench.cli.report import add_repeatability_parser, add_report_parser
from bench.cli.run import add_run_parser
from bench.cli.serve import add_serve_parser, add_ui_parser
from bench.errors import EXIT_INTERRUPTED, BenchError
from bench.terminal import log_handler

__all__ = ["build_parser", "main"]


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
    add_gate_rates_parser(subparsers)
    add_repeatability_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # a mistyped option is an error naming it, for every command
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        handlers=[log_handler(console)],
    )
    # One line per HTTP request (readiness polls) would drown the progress display.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, raise_stop)
    # Ctrl-C or SIGINT stops every command cleanly, also when a shell started it in the background with
    # SIGINT ignored (a script's `&`), which the interpreter would otherwise inherit and keep.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result: int = args.handler(args)
        return result
    except BenchError as exc:  # every error of the bench, caught once: its message, then its exit code
        console.print(f"[red]error:[/] {exc}")
        return exc.exit_code
    except (KeyboardInterrupt, Stop):
        console.print("stopped; every process it started is stopped too")
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Command line: python -m bench {serve,run,ui,report,check,baseline}. Every command has --help."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.logging import RichHandler

from bench.config import DEFAULT_HOST, ConfigError, discover_apps, load_app
from bench.database import DatabaseError, prepared_database
from bench.servers import ServerError, serve_app

console = Console(stderr=True)
log = logging.getLogger("bench")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class Stop(Exception):
    """Raised in the main thread on SIGTERM so that every context manager cleans up."""


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
    parser.add_argument("--app", required=True, help=f"one of: {', '.join(discover_apps()) or 'none yet'}")
    parser.add_argument("--server", help="server variant from the app's app.toml (default: its default)")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=positive_int, default=8000, help="port (default %(default)s)")
    parser.add_argument("--workers", type=positive_int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--threads", type=positive_int, default=8, help="threads per worker, for threaded servers"
    )
    parser.add_argument(
        "--db",
        default="sqlite",
        help="sqlite (default), postgres (a throw-away local cluster) or a DATABASE_URL",
    )
    parser.add_argument("--cpus", type=cpu_set, help="pin the server to these CPUs, e.g. 0")
    parser.set_defaults(handler=command_serve)


def command_serve(args: argparse.Namespace) -> int:
    app = load_app(args.app)
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-serve-{app.name}-") as workdir,
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


def not_landed(issue: int, what: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        console.print(f"[yellow]`{what}` is not built yet: it comes with issue #{issue}.[/]")
        return EXIT_USAGE

    return handler


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="framework-bench: FastAPI, Flask and Django on one contract, measured.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve_parser(subparsers)
    add_report_parser(subparsers)
    for name, issue, text in (
        ("run", 5, "run the benchmark matrix"),
        ("ui", 5, "Locust's web UI against one app"),
        ("check", 7, "compare a run with a baseline"),
        ("baseline", 7, "save a run as the regression baseline"),
    ):
        sub = subparsers.add_parser(name, help=text, description=text)
        sub.set_defaults(handler=not_landed(issue, name))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "serve":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
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

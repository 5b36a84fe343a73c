"""`bench serve` (one app in the foreground) and `bench ui` (one app and Locust's web UI)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
from pathlib import Path

from bench.cli.arguments import SubParsers, add_app_server_arguments, console, cpu_set, positive_int
from bench.config import DEFAULT_HOST, ROOT, load_app
from bench.errors import EXIT_FAILURE, EXIT_OK, ConfigError
from bench.processes import die_with_parent, port_in_use, stop_process_group
from bench.run.database import prepared_database, scratch_directory
from bench.run.servers import serve_app


def add_serve_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
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


def add_ui_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
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
    from bench.run.runner import default_cpu_split
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
            sys.executable, "-m", "bench.run.loadgen", "ui", "--scenario", args.scenario,
            "--host", running.base_url, "--web-host", args.web_host, "--web-port", str(args.web_port),
        ]  # fmt: skip

        def prepare_child() -> None:  # in the child before exec: the load CPUs, and no life beyond ours
            os.sched_setaffinity(0, load_cpus)
            die_with_parent()

        process = subprocess.Popen(command, cwd=ROOT, start_new_session=True, preexec_fn=prepare_child)
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

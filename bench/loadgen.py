"""The load generator, a process of its own: `python -m bench.loadgen {cell,worker,ui}`.

`cells` runs measured cells one after another: for each LoadSpec, one JSON line on stdin, it drives Locust as
a library, prints `window-start` and `window-end` on stdout at the edges of the measured window (the runner
samples CPU and memory at those moments), writes a JSON summary file and prints `done`. With `workers > 0`
it is a Locust master with that many local worker processes; with `expect_workers > 0` a master that waits
for remote ones.
`worker` is a Locust worker for such a master; `ui` is Locust's web UI for one scenario.

Importing Locust monkey-patches the interpreter with gevent, which is why this runs apart from the runner.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import inspect
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

import gevent
from locust import User  # importing Locust monkey-patches the standard library with gevent
from locust.env import Environment
from locust.runners import STATE_STOPPED, Runner, WorkerRunner

from bench.loadgen_protocol import (
    DONE,
    STOP_TIMEOUT_S,
    WINDOW_END,
    WINDOW_START,
    LoadSpec,
    LoadSummary,
)
from bench.metrics import LatencyRecorder
from bench.scenarios import discover_scenarios, scenario_info
from bench.scenarios.common import LOGINS, WRITE_LOG

log = logging.getLogger("bench.loadgen")

# Locust custom messages between master and workers
WINDOW_MESSAGE = "bench_window"
REPORT_MESSAGE = "bench_report"
WORKERS_TIMEOUT_S = 60.0
REPORT_TIMEOUT_S = 15.0
MAX_USER_ERRORS_KEPT = 5


def emit(marker: str) -> None:
    """Tell the runner where the cell is (it samples processes at the window's edges)."""
    sys.stdout.write(marker + "\n")
    sys.stdout.flush()


def user_classes_of(module: ModuleType) -> list[type[User]]:
    """Return the runnable User classes a scenario module defines itself (not the ones it imports)."""
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, User)
        and not obj.abstract
        and obj.__module__ == module.__name__
    ]


def load_user_class(scenario: str) -> type[User]:
    module = importlib.import_module(scenario_info(scenario).module)
    classes = user_classes_of(module)
    if len(classes) != 1:
        raise RuntimeError(f"scenario {scenario!r} must define exactly one User class, found {len(classes)}")
    return classes[0]


def all_user_classes() -> list[type[User]]:
    """Return the User class of every scenario (a long-lived remote worker serves them all)."""
    return [load_user_class(name) for name in discover_scenarios()]


class UserErrors:
    """Counts exceptions raised in scenario code (a login that failed, a bug), keeping a few messages."""

    def __init__(self) -> None:
        self.count = 0
        self.samples: list[str] = []

    def on_user_error(self, user_instance: object, exception: BaseException, tb: object, **_: Any) -> None:
        self.count += 1
        if len(self.samples) < MAX_USER_ERRORS_KEPT:
            self.samples.append(f"{type(exception).__name__}: {exception}"[:300])


def new_environment(user_classes: list[type[User]], *, host: str, stop_timeout_s: float) -> Environment:
    return Environment(user_classes=user_classes, host=host, stop_timeout=stop_timeout_s)


def wait_for_users(runner: Runner, spec: LoadSpec) -> None:
    """Start the users; return when all are spawned (their on_start done or under way)."""
    spawn_rate = spec.spawn_rate or float(spec.users)
    runner.start(spec.users, spawn_rate=spawn_rate)


# --- one process --------------------------------------------------------------------------------------------


def run_local_cell(spec: LoadSpec) -> LoadSummary:
    """Run a cell in this process alone."""
    recorder = LatencyRecorder()
    user_errors = UserErrors()
    env = new_environment(
        [load_user_class(spec.scenario)], host=spec.host, stop_timeout_s=spec.stop_timeout_s
    )
    env.events.request.add_listener(recorder.on_request)  # type: ignore[no-untyped-call]
    env.events.user_error.add_listener(user_errors.on_user_error)  # type: ignore[no-untyped-call]
    runner = env.create_local_runner()
    wait_for_users(runner, spec)
    gevent.sleep(spec.warmup_s)

    recorder.reset()
    emit(WINDOW_START)
    started = time.perf_counter()
    gevent.sleep(spec.duration_s)
    window_s = time.perf_counter() - started
    measured = recorder.to_message()
    emit(WINDOW_END)

    runner.stop()  # lets in-flight tasks finish (stop_timeout) so that the write log is complete
    runner.quit()
    summary = summary_from(measured, window_s=window_s)
    summary.user_errors, summary.user_error_samples = user_errors.count, user_errors.samples
    summary.writes = [WRITE_LOG.to_message()]
    return summary


def summary_from(measured: dict[str, Any], *, window_s: float) -> LoadSummary:
    recorder = LatencyRecorder()
    recorder.add_message(measured)
    return LoadSummary(
        window_s=window_s,
        requests=recorder.requests,
        failures=recorder.failures,
        failures_by_kind=recorder.failures_by_kind,
        requests_by_name=recorder.requests_by_name,
        latency_ms=recorder.latency_summary(),
    )


# --- master and workers -------------------------------------------------------------------------------------


class ReportCollector:
    """The master's side of the window protocol: collects one report per worker and round."""

    def __init__(self) -> None:
        self.reports: dict[str, list[dict[str, Any]]] = {}

    def on_report(self, environment: Environment, msg: Any, **_: Any) -> None:
        self.reports.setdefault(msg.data["round"], []).append(msg.data)

    def wait(self, round_name: str, *, count: int, timeout_s: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while len(self.reports.get(round_name, [])) < count and time.monotonic() < deadline:
            gevent.sleep(0.05)
        return self.reports.get(round_name, [])


def start_local_workers(spec: LoadSpec) -> list[subprocess.Popen[bytes]]:
    command = [
        sys.executable, "-m", "bench.loadgen", "worker",
        "--master-host", "127.0.0.1", "--master-port", str(spec.master_port), "--scenario", spec.scenario,
    ]  # fmt: skip
    return [subprocess.Popen(command, stdin=subprocess.DEVNULL) for _ in range(spec.workers)]


def run_master_cell(spec: LoadSpec) -> LoadSummary:
    """Run a cell as a Locust master, with local worker processes or remote ones."""
    expected = spec.workers or spec.expect_workers
    user_errors = UserErrors()
    collector = ReportCollector()
    env = new_environment(
        [load_user_class(spec.scenario)], host=spec.host, stop_timeout_s=spec.stop_timeout_s
    )
    env.events.user_error.add_listener(user_errors.on_user_error)  # type: ignore[no-untyped-call]
    runner = env.create_master_runner(
        master_bind_host=spec.master_bind_host, master_bind_port=spec.master_port
    )
    runner.register_message(REPORT_MESSAGE, collector.on_report)
    local_workers = start_local_workers(spec) if spec.workers else []
    try:
        deadline = time.monotonic() + WORKERS_TIMEOUT_S
        while len(runner.clients.ready) < expected and time.monotonic() < deadline:
            gevent.sleep(0.1)
        workers = len(runner.clients.ready)
        if workers < expected:
            runner.quit()
            return LoadSummary(
                error=f"only {workers} of {expected} Locust workers connected", workers=workers
            )
        wait_for_users(runner, spec)
        gevent.sleep(spec.warmup_s)

        runner.send_message(WINDOW_MESSAGE, {"action": "start"})
        emit(WINDOW_START)
        started = time.perf_counter()
        gevent.sleep(spec.duration_s)
        runner.send_message(WINDOW_MESSAGE, {"action": "end"})
        window_s = time.perf_counter() - started
        emit(WINDOW_END)
        measured_reports = collector.wait("end", count=workers, timeout_s=REPORT_TIMEOUT_S)

        runner.stop()
        deadline = time.monotonic() + spec.stop_timeout_s + REPORT_TIMEOUT_S
        while runner.state != STATE_STOPPED and time.monotonic() < deadline:
            gevent.sleep(0.05)
        runner.send_message(WINDOW_MESSAGE, {"action": "writes"})
        write_reports = collector.wait("writes", count=workers, timeout_s=REPORT_TIMEOUT_S)
        runner.quit()
    finally:
        for process in local_workers:
            try:
                process.wait(timeout=REPORT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()

    recorder = LatencyRecorder()
    for report in measured_reports:
        recorder.add_message(report["measured"])
    summary = summary_from(recorder.to_message(), window_s=window_s)
    summary.workers = workers
    summary.user_errors = user_errors.count + sum(int(r["user_errors"]) for r in write_reports)
    summary.user_error_samples = user_errors.samples + [
        s for r in write_reports for s in r["user_error_samples"]
    ]
    summary.writes = [report["writes"] for report in write_reports]
    if len(measured_reports) < workers or len(write_reports) < workers:
        summary.error = (
            f"{workers - min(len(measured_reports), len(write_reports))} Locust worker(s) sent no report"
        )
    return summary


def serve_as_worker(*, master_host: str, master_port: int, scenario: str | None, forever: bool) -> None:
    """Be a Locust worker of a bench master; with forever, start over each time a master quits."""
    user_classes = [load_user_class(scenario)] if scenario else all_user_classes()
    while True:
        recorder = LatencyRecorder()
        user_errors = UserErrors()
        WRITE_LOG.clear()
        LOGINS.clear()
        env = new_environment(user_classes, host="", stop_timeout_s=STOP_TIMEOUT_S)
        env.events.request.add_listener(recorder.on_request)  # type: ignore[no-untyped-call]
        env.events.user_error.add_listener(user_errors.on_user_error)  # type: ignore[no-untyped-call]
        try:
            runner = env.create_worker_runner(master_host, master_port)
        except ConnectionError:
            if forever:
                continue
            raise
        runner.register_message(WINDOW_MESSAGE, window_handler(runner, recorder, user_errors))
        runner.greenlet.join()
        if not forever:
            return


def window_handler(
    runner: WorkerRunner, recorder: LatencyRecorder, user_errors: UserErrors
) -> Callable[..., None]:
    def on_window(environment: Environment, msg: Any, **_: Any) -> None:
        action = msg.data["action"]
        if action == "start":
            recorder.reset()
        elif action == "end":
            runner.send_message(REPORT_MESSAGE, {"round": "end", "measured": recorder.to_message()})
        elif action == "writes":
            runner.send_message(
                REPORT_MESSAGE,
                {
                    "round": "writes",
                    "writes": WRITE_LOG.to_message(),
                    "user_errors": user_errors.count,
                    "user_error_samples": user_errors.samples,
                },
            )

    return on_window


# --- the web UI ---------------------------------------------------------------------------------------------


def serve_web_ui(*, scenario: str, host: str, web_host: str, web_port: int) -> None:
    """Run Locust's web UI for one scenario against host until interrupted."""
    env = new_environment([load_user_class(scenario)], host=host, stop_timeout_s=STOP_TIMEOUT_S)
    env.create_local_runner()
    web_ui = env.create_web_ui(host=web_host, port=web_port)
    log.info("Locust web UI for %s against %s: http://%s:%s", scenario, host, web_host, web_port)
    try:
        gevent.wait([web_ui.greenlet] if web_ui.greenlet is not None else [])
    finally:
        web_ui.stop()  # type: ignore[no-untyped-call]
        if env.runner is not None:
            env.runner.quit()


# --- command line -------------------------------------------------------------------------------------------


def run_cell(spec: LoadSpec) -> LoadSummary:
    """Run one cell from a clean slate and return its summary (errors included: it never raises)."""
    WRITE_LOG.clear()
    LOGINS.clear()
    try:
        return run_master_cell(spec) if spec.workers or spec.expect_workers else run_local_cell(spec)
    except Exception as exc:  # the runner records the error in the cell's row and goes on
        log.exception("load generator failed")
        return LoadSummary(error=f"load generator failed: {type(exc).__name__}: {exc}")
    finally:
        gc.collect()


def serve_cells() -> int:
    """Run cells one after another, each LoadSpec a JSON line on stdin, until stdin closes.

    One process serves a whole run: importing Locust costs a second or two, which would otherwise be paid
    again by every cell.
    """
    for line in sys.stdin:
        if not line.strip():
            continue
        spec = LoadSpec(**json.loads(line))
        summary = run_cell(spec)
        Path(spec.summary_path).write_text(json.dumps(asdict(summary)))
        emit(DONE)
    # Nothing is left to clean up; skip the interpreter's slow shutdown with gevent's hub and threads.
    logging.shutdown()
    os._exit(0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("cells", help="run cells, each LoadSpec a JSON line on stdin, until stdin closes")
    worker = commands.add_parser("worker", help="a Locust worker for a bench master")
    worker.add_argument("--master-host", default="127.0.0.1")
    worker.add_argument("--master-port", type=int, default=5557)
    worker.add_argument("--scenario", help="load only this scenario (default: all of them)")
    worker.add_argument("--forever", action="store_true", help="serve one master after another")
    ui = commands.add_parser("ui", help="Locust's web UI for one scenario")
    ui.add_argument("--scenario", required=True)
    ui.add_argument("--host", required=True, help="base URL of the app")
    ui.add_argument("--web-host", default="127.0.0.1")
    ui.add_argument("--web-port", type=int, default=8089)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s loadgen %(levelname)s %(message)s")
    if args.command == "cells":
        return serve_cells()
    try:
        if args.command == "worker":
            serve_as_worker(
                master_host=args.master_host,
                master_port=args.master_port,
                scenario=args.scenario,
                forever=args.forever,
            )
        else:
            serve_web_ui(
                scenario=args.scenario, host=args.host, web_host=args.web_host, web_port=args.web_port
            )
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

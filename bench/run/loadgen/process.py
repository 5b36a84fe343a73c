"""The load generator, a process of its own: `python -m bench.run.loadgen {cells,worker,ui}`.

`cells` runs measured cells one after another: for each LoadSpec, one JSON line on stdin, it drives Locust as
a library, prints `window-start` and `window-end` on stdout at the edges of the measured window (the runner
samples CPU and memory at those moments), writes a JSON summary file and prints `done`. A cell with
`workers > 0` or `expect_workers > 0` runs on a Locust master with local or remote workers
(bench.run.loadgen.distributed). `worker` is a Locust worker for such a master; `ui` is Locust's web UI for
one scenario.

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
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from types import ModuleType

import gevent
from locust import User  # importing Locust monkey-patches the standard library with gevent
from locust.env import Environment

from bench.run.loadgen.distributed import (
    UserErrors,
    close_session,
    emit_marker,
    run_distributed_cell,
    serve_as_worker,
    wait_for_requests,
    wait_until_logged_in,
)
from bench.run.loadgen.latency import LatencyRecorder
from bench.run.loadgen.openloop import run_open_sweep
from bench.run.loadgen.protocol import DONE, STOP_TIMEOUT_S, WINDOW_END, WINDOW_START, LoadSpec, LoadSummary
from bench.run.loadgen.sweep import PlannedStep, with_arrivals
from bench.scenarios import discover_scenarios, scenario_info
from bench.scenarios.common import LOGINS, WRITE_LOG

log = logging.getLogger("bench.run.loadgen")


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
    """Return the User class of a scenario."""
    module = importlib.import_module(scenario_info(scenario).module)
    classes = user_classes_of(module)
    if len(classes) != 1:
        raise RuntimeError(f"scenario {scenario!r} must define exactly one User class, found {len(classes)}")
    return classes[0]


def all_user_classes() -> list[type[User]]:
    """Return the User class of every scenario (a master or worker serving a whole run needs them all)."""
    return [load_user_class(name) for name in discover_scenarios()]


def run_closed_loop(spec: LoadSpec, *, user_class: type[User], user_errors: UserErrors) -> LoadSummary:
    """Run the closed-loop window of a cell in this process and return what it measured."""
    recorder = LatencyRecorder()
    env = Environment(user_classes=[user_class], host=spec.host, stop_timeout=spec.stop_timeout_s)
    env.events.request.add_listener(recorder.on_request)  # type: ignore[no-untyped-call]
    user_errors.listen_to(env)
    runner = env.create_local_runner()
    runner.start(spec.users, spawn_rate=spec.spawn_rate or float(spec.users))
    wait_until_logged_in(runner)
    gevent.sleep(spec.warmup_s)

    recorder.reset()
    emit_marker(WINDOW_START)
    started = time.perf_counter()
    gevent.sleep(spec.duration_s)
    wait_for_requests(lambda: recorder.requests, spec=spec, started=started)
    window_s = time.perf_counter() - started
    measured = recorder.to_message()
    emit_marker(WINDOW_END)

    runner.stop()  # lets in-flight tasks finish (stop_timeout) so that the write log is complete
    runner.quit()
    summary = LatencyRecorder()
    summary.add_message(measured)
    return LoadSummary(
        window_s=window_s,
        requests=summary.requests,
        failures=summary.failures,
        failures_by_kind=summary.failures_by_kind,
        requests_by_name=summary.requests_by_name,
        latency_ms=summary.latency_summary(),
    )


def run_local_cell(spec: LoadSpec) -> LoadSummary:
    """Run a cell in this process alone: its closed-loop window, its open-loop sweep, or both in turn."""
    user_class = load_user_class(spec.scenario)
    user_errors = UserErrors()
    result = (
        run_closed_loop(spec, user_class=user_class, user_errors=user_errors)
        if spec.closed_loop
        else LoadSummary()
    )
    if spec.sweep_steps:
        steps = [PlannedStep(**step) for step in spec.sweep_steps]
        result.sweep, result.open_users = run_open_sweep(
            user_class=user_class,
            host=spec.host,
            steps=with_arrivals(steps, arrivals=spec.arrivals, seed=spec.arrival_seed),
            timeout_s=spec.open_timeout_s,
            max_users=spec.open_users_max,
            stop_timeout_s=spec.stop_timeout_s,
            add_listeners=user_errors.listen_to,
        )
    result.user_errors = user_errors.count
    result.user_error_samples = user_errors.samples
    result.writes = [WRITE_LOG.to_message()]
    return result


def run_cell(spec: LoadSpec) -> LoadSummary:
    """Run one cell from a clean slate and return its summary (errors included: it never raises)."""
    WRITE_LOG.clear()
    LOGINS.clear()
    try:
        if spec.sweep_steps and (spec.workers or spec.expect_workers):
            return LoadSummary(
                error="an open-loop sweep runs in one load generator process, not with workers"
            )
        if spec.workers or spec.expect_workers:
            return run_distributed_cell(
                spec, user_class=load_user_class(spec.scenario), all_classes=all_user_classes()
            )
        return run_local_cell(spec)
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
        emit_marker(DONE)
    close_session()
    # Nothing is left to clean up; skip the interpreter's slow shutdown with gevent's hub and threads.
    logging.shutdown()
    os._exit(0)


def serve_web_ui(*, scenario: str, host: str, web_host: str, web_port: int) -> None:
    """Run Locust's web UI for one scenario against host until interrupted."""
    env = Environment(user_classes=[load_user_class(scenario)], host=host, stop_timeout=STOP_TIMEOUT_S)
    env.create_local_runner()
    sys.argv = sys.argv[:1]  # Locust's web UI parses the command line as if it were Locust's own
    web_ui = env.create_web_ui(host=web_host, port=web_port)
    log.info("Locust web UI for %s against %s: http://%s:%s", scenario, host, web_host, web_port)
    try:
        gevent.wait([web_ui.greenlet] if web_ui.greenlet is not None else [])
    finally:
        web_ui.stop()  # type: ignore[no-untyped-call]
        if env.runner is not None:
            env.runner.quit()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run.loadgen", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("cells", help="run cells, each LoadSpec a JSON line on stdin, until stdin closes")
    worker = commands.add_parser("worker", help="a Locust worker for a bench master")
    worker.add_argument("--master-host", default="127.0.0.1")
    worker.add_argument("--master-port", type=int, default=5557)
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
                all_user_classes(),
                master_host=args.master_host,
                master_port=args.master_port,
                forever=args.forever,
            )
        else:
            serve_web_ui(
                scenario=args.scenario, host=args.host, web_host=args.web_host, web_port=args.web_port
            )
    except KeyboardInterrupt:
        return 130
    return 0

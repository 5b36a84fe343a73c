"""Load generation over several Locust processes: one master for a whole run, its workers local or remote.

The master lives as long as the load generator process (a run): its workers connect once and serve every
cell, instead of reconnecting to a new master per cell (a race Locust handles badly: a worker that
reconnects to a restarted master stays unknown to it until the heartbeat times out). Each cell:

1. wait until the expected workers are ready, then start the cell's users on them;
2. `bench_window` messages to the workers: `logins` makes each answer once its users are spawned and
   logged in (the warm-up starts then), `start` resets their recorders after the warm-up, `end` makes
   each send its measurements, `stop` makes each stop its users gracefully (their last writes done) and
   send its write log;
3. Locust's own stop, which returns the workers to "ready" for the next cell.

Imported by bench.run.loadgen.process only (it imports Locust).
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import gevent
from locust import User
from locust.env import Environment
from locust.runners import STATE_RUNNING, MasterRunner, Runner, WorkerRunner

from bench.run.loadgen.latency import LatencyRecorder
from bench.run.loadgen.protocol import WINDOW_END, WINDOW_START, LoadSpec, LoadSummary
from bench.scenarios.common import LOGINS, WRITE_LOG

log = logging.getLogger("bench.run.loadgen")

WINDOW_MESSAGE = "bench_window"
REPORT_MESSAGE = "bench_report"
WORKERS_TIMEOUT_S = 60.0
REPORT_TIMEOUT_S = 15.0
REQUEST_COUNT_POLL_S = 0.05
# Logging in every user of a cell may take this long: mixed logs 32 accounts in twice, ~0.2 s of server CPU
# each (argon2id), before its warm-up starts. Below measure.GRACE_S, which covers it.
LOGINS_TIMEOUT_S = 45.0


class ReportCollector:
    """The master's side of the window protocol: the reports of each cell and round, one per worker."""

    def __init__(self) -> None:
        self.reports: dict[tuple[int, str], list[dict[str, Any]]] = {}

    def on_report(self, environment: Environment, msg: Any, **_: Any) -> None:
        self.reports.setdefault((int(msg.data["cell"]), msg.data["round"]), []).append(msg.data)

    def wait(self, cell: int, round_name: str, *, count: int, timeout_s: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while len(self.reports.get((cell, round_name), [])) < count and time.monotonic() < deadline:
            gevent.sleep(0.05)
        return self.reports.pop((cell, round_name), [])


class MasterSession:
    """A Locust master with every scenario's user class, and the local workers it started (if any)."""

    def __init__(self, spec: LoadSpec, *, user_classes: list[type[User]]) -> None:
        self.key = session_key(spec)
        self.expected = spec.workers or spec.expect_workers
        self.collector = ReportCollector()
        self.cells = 0
        # Locust's own stop is instant (stop_timeout 0): the users were stopped gracefully before it.
        self.env = Environment(user_classes=user_classes, host=spec.host, stop_timeout=0)
        self.runner: MasterRunner = self.env.create_master_runner(
            master_bind_host=spec.master_bind_host, master_bind_port=spec.master_port
        )
        self.runner.register_message(REPORT_MESSAGE, self.collector.on_report)
        self.local_workers = [start_local_worker(spec) for _ in range(spec.workers)]

    def close(self) -> None:
        self.runner.quit()
        with contextlib.suppress(Exception):
            self.runner.server.close(linger=0)  # type: ignore[no-untyped-call]  # free the port at once
        deadline = time.monotonic() + 5
        for process in self.local_workers:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def run_cell(self, spec: LoadSpec, user_class: type[User]) -> LoadSummary:
        self.cells += 1
        cell = self.cells
        runner = self.runner
        deadline = time.monotonic() + WORKERS_TIMEOUT_S
        while len(runner.clients.ready) < self.expected and time.monotonic() < deadline:
            gevent.sleep(0.1)
        workers = len(runner.clients.ready)
        if workers < self.expected:
            return LoadSummary(
                error=f"only {workers} of {self.expected} Locust workers are ready", workers=workers
            )
        self.env.host = spec.host
        runner.start(spec.users, spawn_rate=spec.spawn_rate or float(spec.users), user_classes=[user_class])
        runner.send_message(WINDOW_MESSAGE, {"action": "logins", "cell": cell})
        self.collector.wait(cell, "logins", count=workers, timeout_s=LOGINS_TIMEOUT_S + REPORT_TIMEOUT_S)
        gevent.sleep(spec.warmup_s)

        runner.send_message(WINDOW_MESSAGE, {"action": "start", "cell": cell})
        emit_marker(WINDOW_START)
        started = time.perf_counter()
        counted_before = runner.stats.total.num_requests
        gevent.sleep(spec.duration_s)
        # The master's totals lag the workers' by one report interval (a few seconds); the window only
        # grows by waiting on them.
        wait_for_requests(
            lambda: runner.stats.total.num_requests - counted_before,
            spec=spec,
            started=started,
        )
        runner.send_message(WINDOW_MESSAGE, {"action": "end", "cell": cell})
        window_s = time.perf_counter() - started
        emit_marker(WINDOW_END)
        measured = self.collector.wait(cell, "end", count=workers, timeout_s=REPORT_TIMEOUT_S)

        stop = {"action": "stop", "cell": cell, "stop_timeout_s": spec.stop_timeout_s}
        runner.send_message(WINDOW_MESSAGE, stop)
        writes = self.collector.wait(
            cell, "writes", count=workers, timeout_s=spec.stop_timeout_s + REPORT_TIMEOUT_S
        )
        runner.stop()

        recorder = LatencyRecorder()
        for report in measured:
            recorder.add_message(report["measured"])
        summary = LoadSummary(
            window_s=window_s,
            requests=recorder.requests,
            failures=recorder.failures,
            failures_by_kind=recorder.failures_by_kind,
            requests_by_name=recorder.requests_by_name,
            latency_ms=recorder.latency_summary(),
            user_errors=sum(int(report["user_errors"]) for report in writes),
            user_error_samples=[sample for report in writes for sample in report["user_error_samples"]],
            workers=workers,
            writes=[report["writes"] for report in writes],
        )
        missing = workers - min(len(measured), len(writes))
        if missing:
            summary.error = f"{missing} Locust worker(s) sent no report"
        return summary


def emit_marker(marker: str) -> None:
    sys.stdout.write(marker + "\n")
    sys.stdout.flush()


def wait_for_requests(completed: Callable[[], int], *, spec: LoadSpec, started: float) -> None:
    """Sleep until completed() reaches the cell's min_requests, or its window reaches max_window_s."""
    if not spec.min_requests:
        return
    while completed() < spec.min_requests and time.perf_counter() - started < spec.longest_window_s:
        gevent.sleep(REQUEST_COUNT_POLL_S)


def wait_until_logged_in(runner: Runner, *, timeout_s: float = LOGINS_TIMEOUT_S) -> None:
    """Sleep until the runner has spawned its users and none of them is logging in (or timeout_s passed).

    The measured window is then the logged-in users' steady state, not a queue of password hashing.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        # Sleeping first lets the users spawned last run into their on_start (and so into LOGINS).
        gevent.sleep(REQUEST_COUNT_POLL_S)
        if runner.state == STATE_RUNNING and not LOGINS.in_flight:
            return
    log.warning("users still logging in after %.0f s; the window starts anyway", timeout_s)


def session_key(spec: LoadSpec) -> tuple[str, int, int, int]:
    return (spec.master_bind_host, spec.master_port, spec.workers, spec.expect_workers)


def start_local_worker(spec: LoadSpec) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "bench.run.loadgen", "worker",
        "--master-host", "127.0.0.1", "--master-port", str(spec.master_port),
    ]  # fmt: skip
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)


# --- the worker side ----------------------------------------------------------------------------------------


class UserErrors:
    """Counts exceptions raised in scenario code (a login that failed, a bug), keeping a few messages."""

    MAX_KEPT = 5

    def __init__(self) -> None:
        self.count = 0
        self.samples: list[str] = []

    def on_user_error(self, user_instance: object, exception: BaseException, tb: object, **_: Any) -> None:
        self.count += 1
        if len(self.samples) < self.MAX_KEPT:
            self.samples.append(f"{type(exception).__name__}: {exception}"[:300])

    def clear(self) -> None:
        self.count = 0
        self.samples = []

    def listen_to(self, env: Environment) -> None:
        """Count the user errors of another environment too (the open-loop sweep's)."""
        env.events.user_error.add_listener(self.on_user_error)  # type: ignore[no-untyped-call]


def serve_master(user_classes: list[type[User]], *, master_host: str, master_port: int) -> None:
    """Be a worker of one master: run the users it asks for, cell after cell, until it quits."""
    recorder = LatencyRecorder()
    user_errors = UserErrors()
    env = Environment(user_classes=user_classes, host="", stop_timeout=0)
    env.events.request.add_listener(recorder.on_request)  # type: ignore[no-untyped-call]
    env.events.user_error.add_listener(user_errors.on_user_error)  # type: ignore[no-untyped-call]
    runner: WorkerRunner = env.create_worker_runner(master_host, master_port)

    def start_cell(**_: Any) -> None:  # Locust's test_start: a new cell's users are being spawned
        WRITE_LOG.clear()
        LOGINS.clear()
        user_errors.clear()

    def on_window(environment: Environment, msg: Any, **_: Any) -> None:
        action, cell = msg.data["action"], msg.data["cell"]
        if action == "logins":
            wait_until_logged_in(runner)
            runner.send_message(REPORT_MESSAGE, {"round": "logins", "cell": cell})
        elif action == "start":
            recorder.reset()
        elif action == "end":
            runner.send_message(
                REPORT_MESSAGE, {"round": "end", "cell": cell, "measured": recorder.to_message()}
            )
        elif action == "stop":
            environment.stop_timeout = float(msg.data["stop_timeout_s"])
            try:
                runner.stop()  # in-flight tasks finish, so that the write log is complete
            finally:
                environment.stop_timeout = 0
            runner.send_message(
                REPORT_MESSAGE,
                {
                    "round": "writes",
                    "cell": cell,
                    "writes": WRITE_LOG.to_message(),
                    "user_errors": user_errors.count,
                    "user_error_samples": user_errors.samples,
                },
            )

    env.events.test_start.add_listener(start_cell)  # type: ignore[no-untyped-call]
    # concurrent: stopping users takes up to the stop timeout; the worker keeps reading messages meanwhile
    runner.register_message(WINDOW_MESSAGE, on_window, concurrent=True)
    runner.greenlet.join()


def serve_as_worker(
    user_classes: list[type[User]], *, master_host: str, master_port: int, forever: bool
) -> None:
    """Be a Locust worker of a bench master; with forever, serve the next master each time one quits."""
    while True:
        try:
            serve_master(user_classes, master_host=master_host, master_port=master_port)
        except ConnectionError:
            if not forever:
                raise
            log.info("no master at %s:%s yet; trying again", master_host, master_port)
        if not forever:
            return


# The master session of this process, if a cell asked for distributed load.
_session: MasterSession | None = None


def run_distributed_cell(
    spec: LoadSpec, *, user_class: type[User], all_classes: list[type[User]]
) -> LoadSummary:
    """Run a cell on the process's master session, creating (or re-creating) it when needed."""
    global _session
    if _session is not None and _session.key != session_key(spec):
        close_session()
    if _session is None:
        _session = MasterSession(spec, user_classes=all_classes)
    return _session.run_cell(spec, user_class)


def close_session() -> None:
    global _session
    if _session is not None:
        _session.close()
        _session = None

"""Measure one cell: run the load generator process, sample the server and the generator over its window."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from bench.config import ROOT
from bench.processes import die_with_parent, python_path, stop_process_group
from bench.run.loadgen.protocol import DONE, WINDOW_END, WINDOW_START, LoadSpec
from bench.run.servers import read_log_tail
from bench.run.usage import ProcessTreeSampler, TreeUsage, busy_fraction, cpu_busy_times

# Beyond warm-up and window, a cell may take this long (start-up, spawning users, stopping them) before the
# load generator is considered stuck and killed.
GRACE_S = 60.0


@dataclass
class CellMeasurement:
    """Everything measured in one cell, before it becomes a result row."""

    summary: dict[str, Any] = field(default_factory=dict)  # the load generator's LoadSummary
    wall_s: float = 0.0  # the window as the runner timed it
    server: TreeUsage | None = None
    database: TreeUsage | None = None  # the PostgreSQL cluster's process tree (None: no cluster of ours)
    generator: TreeUsage | None = None
    server_cpus_busy: float | None = None
    load_cpus_busy: float | None = None
    error: str = ""
    log_tail: str = ""


class WindowHook(Protocol):
    """Something more that runs over a cell's measured window (a profiler): started as the window opens,
    stopped as it closes, cancelled when it never closes."""

    def start(self, server_pid: int | None) -> None: ...

    def stop(self) -> None: ...

    def cancel(self) -> None: ...


def loadgen_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = python_path(str(ROOT), env.get("PYTHONPATH", ""))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _reader(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.decode(errors="replace").strip())
    lines.put(None)


class LoadGenerator:
    """A `python -m bench.run.loadgen cells` process, pinned to the load CPUs, in a session of its own.

    One process measures cell after cell (importing Locust takes a second or two: paid once per run, not
    once per cell). After a cell that went wrong it is not reused: `healthy` turns False and the runner
    starts another. close() stops it and everything it started.
    """

    def __init__(self, *, cpus: set[int] | None, log_path: Path) -> None:
        self.log_path = log_path
        self.healthy = True

        def prepare_child() -> None:
            die_with_parent()
            if cpus:
                os.sched_setaffinity(0, cpus)

        with log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.run.loadgen", "cells"],
                cwd=ROOT,
                env=loadgen_environment(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                start_new_session=True,
                preexec_fn=prepare_child,
            )
        assert self.process.stdout is not None
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_reader, args=(self.process.stdout, self._lines), daemon=True).start()

    def __enter__(self) -> LoadGenerator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()  # at EOF it exits by itself
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2)
        stop_process_group(self.process)
        if self.process.stdout is not None:
            with contextlib.suppress(OSError):
                self.process.stdout.close()

    def measure(
        self,
        spec: LoadSpec,
        *,
        server_pid: int | None,
        server_cpus: set[int],
        load_cpus: set[int],
        database_pid: int | None = None,
        hooks: Sequence[WindowHook] = (),
    ) -> CellMeasurement:
        """Run the cell and return what the load generator and the process samplers measured (hooks run
        over the window too)."""
        process = self.process
        assert process.stdin is not None
        measurement = CellMeasurement()
        deadline = time.monotonic() + spec.warmup_s + spec.longest_window_s + spec.sweep_s + GRACE_S
        try:
            process.stdin.write((json.dumps(asdict(spec)) + "\n").encode())
            process.stdin.flush()
        except OSError:
            pass  # it died already: _follow says how
        sampler = WindowSampler(
            server_pid=server_pid,
            database_pid=database_pid,
            generator_pid=process.pid,
            server_cpus=server_cpus,
            load_cpus=load_cpus,
            hooks=hooks,
        )
        try:
            measurement.error = _follow(process, self._lines, sampler, measurement, deadline=deadline)
        finally:
            sampler.cancel()
        if measurement.error:
            self.healthy = False
        else:
            try:
                measurement.summary = json.loads(Path(spec.summary_path).read_text())
            except (OSError, ValueError) as exc:
                measurement.error = f"no summary from the load generator: {exc}"
            measurement.error = measurement.error or str(measurement.summary.get("error", ""))
        if measurement.error:
            measurement.log_tail = read_log_tail(self.log_path)
        return measurement


class WindowSampler:
    """Samples the server's, the database's and the generator's process trees and their CPUs between start()
    and stop()."""

    def __init__(
        self,
        *,
        server_pid: int | None,
        generator_pid: int,
        server_cpus: set[int],
        load_cpus: set[int],
        database_pid: int | None = None,
        hooks: Sequence[WindowHook] = (),
    ) -> None:
        self.hooks = tuple(hooks)
        self.server_pid = server_pid
        self.server = ProcessTreeSampler(server_pid) if server_pid is not None else None
        self.database = ProcessTreeSampler(database_pid) if database_pid is not None else None
        self.generator = ProcessTreeSampler(generator_pid)
        self.server_cpus, self.load_cpus = server_cpus, load_cpus
        self._server_before = self._load_before = (0.0, 0.0)
        self._started: float | None = None

    def start(self) -> None:
        # Hooks first: a profiler takes a moment to attach, and should not miss the window's first CPU.
        for hook in self.hooks:
            hook.start(self.server_pid)
        self._server_before = cpu_busy_times(self.server_cpus)
        self._load_before = cpu_busy_times(self.load_cpus)
        self._started = time.monotonic()
        for sampler in (self.server, self.database):
            if sampler is not None:
                sampler.start()
        self.generator.start()

    def stop(self, measurement: CellMeasurement) -> None:
        """Fill in the measurement's window figures."""
        if self._started is None:
            return
        measurement.wall_s = time.monotonic() - self._started
        measurement.server = self.server.stop() if self.server is not None else None
        measurement.database = self.database.stop() if self.database is not None else None
        measurement.generator = self.generator.stop()
        measurement.server_cpus_busy = busy_fraction(self._server_before, cpu_busy_times(self.server_cpus))
        measurement.load_cpus_busy = busy_fraction(self._load_before, cpu_busy_times(self.load_cpus))
        self._started = None
        for hook in self.hooks:  # after the figures: a profiler's own stop takes time
            hook.stop()

    def cancel(self) -> None:
        for sampler in (self.server, self.database, self.generator):
            if sampler is not None:
                sampler.cancel()
        for hook in self.hooks:
            hook.cancel()


def _follow(
    process: subprocess.Popen[bytes],
    lines: queue.Queue[str | None],
    sampler: WindowSampler,
    measurement: CellMeasurement,
    *,
    deadline: float,
) -> str:
    """Follow the load generator's markers until it is done; return an error, or '' when all went well."""
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            return "the load generator did not finish in time; it was killed"
        if line == WINDOW_START:
            sampler.start()
        elif line == WINDOW_END:
            sampler.stop(measurement)
        elif line == DONE:
            return ""
        elif line is None:
            return f"the load generator exited with code {process.wait()} before it was done"

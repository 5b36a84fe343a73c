"""What the runner samples of the processes under test: CPU time and memory of process trees, busy CPUs."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import psutil


def process_tree(root_pid: int) -> list[psutil.Process]:
    """Return the process and all its descendants that exist now (empty when the root is gone)."""
    try:
        root = psutil.Process(root_pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


@dataclass
class TreeUsage:
    """CPU seconds and memory of a process tree over a window."""

    cpu_s: float = 0.0  # user_s + system_s
    user_s: float = 0.0  # in user mode (Python and C code alike)
    system_s: float = 0.0  # in the kernel on the processes' behalf (system calls, page faults)
    peak_rss_mb: float = 0.0
    pss_mb: float | None = None
    processes: int = 0


class ProcessTreeSampler:
    """Samples the CPU time and RSS of a process tree in a background thread, between start() and stop().

    The CPU of the window is the growth of every process's user+system time, each also kept apart (a
    profiler's samples are set against the user time; the system time is the kernel's share). Sampling
    several times a second keeps the CPU of a process that exits during the window (a restarted worker) up to
    its last sample.
    """

    def __init__(self, root_pid: int, *, interval_s: float = 0.25) -> None:
        self.root_pid = root_pid
        self.interval_s = interval_s
        self._at_start: dict[int, tuple[float, float]] = {}  # pid -> (user, system) seconds
        self._latest: dict[int, tuple[float, float]] = {}
        self._peak_rss = 0
        self._seen: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _sample(self) -> None:
        rss = 0
        for process in process_tree(self.root_pid):
            with contextlib.suppress(psutil.Error):
                with process.oneshot():
                    times = process.cpu_times()
                    memory = process.memory_info()
                with self._lock:
                    self._latest[process.pid] = (times.user, times.system)
                    self._seen.add(process.pid)
                rss += memory.rss
        with self._lock:
            self._peak_rss = max(self._peak_rss, rss)

    def start(self) -> None:
        """Take the first sample (the window starts now) and keep sampling in the background."""
        self._sample()
        with self._lock:
            self._at_start = dict(self._latest)
        self._thread = threading.Thread(target=self._run, name=f"sample-{self.root_pid}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def cancel(self) -> None:
        """Stop sampling without a result (the window never ended); harmless when already stopped."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> TreeUsage:
        """Take the last sample (the window ends now) and return the usage over the window."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        with self._lock:
            user_s = system_s = 0.0
            for pid, (user, system) in self._latest.items():
                start_user, start_system = self._at_start.get(pid, (0.0, 0.0))
                user_s += max(0.0, user - start_user)
                system_s += max(0.0, system - start_system)
            peak_rss_mb = self._peak_rss / 2**20
            processes = len(self._seen)
        return TreeUsage(
            cpu_s=user_s + system_s,
            user_s=user_s,
            system_s=system_s,
            peak_rss_mb=peak_rss_mb,
            pss_mb=tree_pss_mb(self.root_pid),
            processes=processes,
        )


def tree_pss_mb(root_pid: int) -> float | None:
    """Return the proportional set size of a process tree in MiB (shared pages split between sharers)."""
    total = 0
    for process in process_tree(root_pid):
        try:
            total += process.memory_full_info().pss
        except (psutil.Error, AttributeError):
            return None
    return total / 2**20 if total else None


def cpu_busy_times(cpus: Iterable[int]) -> tuple[float, float]:
    """Return (busy, total) CPU seconds so far, summed over the given CPUs of the machine."""
    per_cpu = psutil.cpu_times(percpu=True)
    busy = total = 0.0
    for cpu in cpus:
        if cpu >= len(per_cpu):
            continue
        times = per_cpu[cpu]
        idle = times.idle + getattr(times, "iowait", 0.0)
        cpu_total = sum(times)
        # guest time is already counted in user time
        cpu_total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
        busy += cpu_total - idle
        total += cpu_total
    return busy, total


def busy_fraction(before: tuple[float, float], after: tuple[float, float]) -> float:
    """Return the fraction of time CPUs were busy between two cpu_busy_times() readings."""
    busy = after[0] - before[0]
    total = after[1] - before[1]
    return busy / total if total > 0 else 0.0


class Stopwatch:
    """Monotonic wall time of a window."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

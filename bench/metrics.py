"""What a cell measures: a latency histogram of every request, CPU and memory of process trees and CPUs.

Nothing here imports Locust (importing it monkey-patches the interpreter with gevent): the load generator
feeds LatencyRecorder from Locust's request event, the runner samples processes with ProcessTreeSampler.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psutil
from hdrh.histogram import HdrHistogram

# Latencies are recorded in microseconds, from 1 µs to 10 minutes, with 3 significant digits: a real histogram
# where Locust's own statistics round to two significant digits.
LOWEST_US = 1
HIGHEST_US = 600_000_000
SIGNIFICANT_DIGITS = 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}
# At most this many distinct failure kinds are kept; the rest are counted under OTHER_FAILURES.
MAX_FAILURE_KINDS = 20
OTHER_FAILURES = "other"
FAILURE_KIND_CHARS = 120


def new_histogram() -> HdrHistogram:
    """Return an empty latency histogram (microseconds)."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def failure_kind(exception: BaseException) -> str:
    """Return a short, stable label for a failed request: the message a scenario gave, or the error's type."""
    if type(exception).__name__ == "CatchResponseError":  # response.failure("...") in a scenario
        return str(exception)[:FAILURE_KIND_CHARS]
    text = str(exception)
    # HTTP errors carry the status in their text ("HTTP 500 ..."): keep it short and without URLs.
    return f"{type(exception).__name__}: {text.split(' for url')[0]}"[:FAILURE_KIND_CHARS]


@dataclass
class LatencyRecorder:
    """Counts requests and failures and records successful response times, for one measured window.

    `on_request` has the signature of Locust's request event; `reset` starts the window over.
    """

    histogram: HdrHistogram = field(default_factory=new_histogram)
    requests: int = 0
    failures: int = 0
    failures_by_kind: dict[str, int] = field(default_factory=dict)
    requests_by_name: dict[str, int] = field(default_factory=dict)

    def on_request(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float | None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        self.requests += 1
        label = f"{request_type} {name}"
        self.requests_by_name[label] = self.requests_by_name.get(label, 0) + 1
        if exception is not None:
            self.failures += 1
            kind = f"{label}: {failure_kind(exception)}"
            if kind not in self.failures_by_kind and len(self.failures_by_kind) >= MAX_FAILURE_KINDS:
                kind = OTHER_FAILURES
            self.failures_by_kind[kind] = self.failures_by_kind.get(kind, 0) + 1
            return
        if response_time is not None:
            # Response times arrive as float milliseconds, unrounded; record whole microseconds.
            self.histogram.record_value(min(HIGHEST_US, max(LOWEST_US, round(response_time * 1000))))

    def reset(self) -> None:
        self.histogram.reset()
        self.requests = 0
        self.failures = 0
        self.failures_by_kind = {}
        self.requests_by_name = {}

    def to_message(self) -> dict[str, Any]:
        """Return the recorder's state as plain data (what a Locust worker sends to its master)."""
        return {
            "histogram": self.histogram.encode().decode("ascii") if self.histogram.get_total_count() else "",
            "requests": self.requests,
            "failures": self.failures,
            "failures_by_kind": dict(self.failures_by_kind),
            "requests_by_name": dict(self.requests_by_name),
        }

    def add_message(self, message: dict[str, Any]) -> None:
        """Add the state of another recorder, as returned by its to_message()."""
        if message["histogram"]:
            self.histogram.decode_and_add(message["histogram"])
        self.requests += int(message["requests"])
        self.failures += int(message["failures"])
        for target, source in (
            (self.failures_by_kind, message["failures_by_kind"]),
            (self.requests_by_name, message["requests_by_name"]),
        ):
            for key, count in source.items():
                target[key] = target.get(key, 0) + int(count)

    def latency_summary(self) -> dict[str, float | None]:
        """Return the latency percentiles, mean and maximum in milliseconds (None when nothing succeeded)."""
        return latency_summary(self.histogram)


def latency_summary(histogram: HdrHistogram) -> dict[str, float | None]:
    """Return {p50, p90, p99, p999, mean, max} in milliseconds of a histogram in microseconds."""
    if histogram.get_total_count() == 0:
        return {key: None for key in (*PERCENTILES, "mean", "max")}
    summary: dict[str, float | None] = {
        key: histogram.get_value_at_percentile(percentile) / 1000 for key, percentile in PERCENTILES.items()
    }
    summary["mean"] = histogram.get_mean_value() / 1000
    summary["max"] = histogram.get_max_value() / 1000
    return summary


# --- processes and CPUs -------------------------------------------------------------------------------------


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

    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    pss_mb: float | None = None
    processes: int = 0


class ProcessTreeSampler:
    """Samples the CPU time and RSS of a process tree in a background thread, between start() and stop().

    The CPU of the window is the growth of every process's user+system time. Sampling several times a second
    keeps the CPU of a process that exits during the window (a restarted worker) up to its last sample.
    """

    def __init__(self, root_pid: int, *, interval_s: float = 0.25) -> None:
        self.root_pid = root_pid
        self.interval_s = interval_s
        self._at_start: dict[int, float] = {}
        self._latest: dict[int, float] = {}
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
                    self._latest[process.pid] = times.user + times.system
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
            cpu_s = sum(
                max(0.0, latest - self._at_start.get(pid, 0.0)) for pid, latest in self._latest.items()
            )
            peak_rss_mb = self._peak_rss / 2**20
            processes = len(self._seen)
        return TreeUsage(
            cpu_s=cpu_s, peak_rss_mb=peak_rss_mb, pss_mb=tree_pss_mb(self.root_pid), processes=processes
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

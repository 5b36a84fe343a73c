"""What the runner and the load generator process (bench.run.loadgen.process) say to each other.

Kept apart from bench.run.loadgen.process because importing that one imports Locust, which monkey-patches the
interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.run.loadgen.sweep import POISSON

# Lines the load generator prints on stdout
WINDOW_START = "window-start"
WINDOW_END = "window-end"
DONE = "done"

# A user's in-flight task may finish within this time after the window (so that the write log is complete);
# then it is killed.
STOP_TIMEOUT_S = 5.0


@dataclass
class LoadSpec:
    """What one cell asks of the load generator (sent as one JSON line on its stdin)."""

    scenario: str
    host: str
    users: int
    warmup_s: float
    duration_s: float
    summary_path: str
    spawn_rate: float = 0.0  # users started per second; 0: all at once
    workers: int = 0  # local Locust worker processes (0: one process, no master)
    expect_workers: int = 0  # remote workers to wait for (--master)
    master_bind_host: str = "127.0.0.1"
    master_port: int = 5557
    stop_timeout_s: float = STOP_TIMEOUT_S
    # The window lasts duration_s, and then on until min_requests requests have completed in it, but at most
    # max_window_s: a count of requests rather than a time, for runs that must not depend on the machine's
    # speed (the tests). 0: the window is duration_s.
    min_requests: int = 0
    max_window_s: float = 0.0
    # measure the closed-loop window (warm-up, then duration_s); False: a sweep alone
    closed_loop: bool = True
    # An open-loop rate sweep (bench.run.loadgen.openloop) after the closed-loop window, if any: the planned
    # steps (PlannedStep fields without arrival times: phase, share, rate_rps, duration_s; the runner plans
    # them, bench.run.loadgen.sweep.plan_sweep). Empty: no sweep.
    sweep_steps: list[dict[str, Any]] = field(default_factory=list)
    open_timeout_s: float = 2.0  # a request not answered within this is a timeout
    open_users_max: int = 512
    arrivals: str = POISSON  # or EVEN
    arrival_seed: int = 0  # of the Poisson arrivals' random gaps

    @property
    def longest_window_s(self) -> float:
        """Return the most the measured window may last."""
        return max(self.duration_s, self.max_window_s) if self.min_requests else self.duration_s

    @property
    def sweep_s(self) -> float:
        """Return how long the open-loop sweep lasts (0 without one): its steps, then the last answers."""
        if not self.sweep_steps:
            return 0.0
        return sum(float(step["duration_s"]) for step in self.sweep_steps) + self.open_timeout_s


@dataclass
class LoadSummary:
    """What the load generator measured in the window (written as JSON to LoadSpec.summary_path)."""

    window_s: float = 0.0
    requests: int = 0
    failures: int = 0
    failures_by_kind: dict[str, int] = field(default_factory=dict)
    requests_by_name: dict[str, int] = field(default_factory=dict)
    latency_ms: dict[str, float | None] = field(default_factory=dict)
    user_errors: int = 0
    user_error_samples: list[str] = field(default_factory=list)
    workers: int = 0
    writes: list[dict[str, Any]] = field(default_factory=list)  # one write log per load process
    sweep: list[dict[str, Any]] = field(default_factory=list)  # SweepStep dicts (bench.results)
    open_users: int = 0
    error: str = ""

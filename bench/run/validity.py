"""Validity flags of a cell, decided from its measurements: pure functions, no processes.

A number the bench cannot vouch for carries a flag instead of passing silently: `generator_bound` when the
load generator, not the server, was the limit; `error` when the server failed or answered wrongly too often.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from bench.run.loadgen.latency import name_of_label

# Locust is at its limit from 90% of its CPU (Locust's own warning threshold). A saturated server, with
# requests always queued, runs at 97-100% of its CPU; one at 90-95% is waiting for the generator.
GENERATOR_SATURATION = 0.90
SERVER_SATURATION = 0.95
# More failed requests than this fraction of all requests make the cell an error.
MAX_FAILURE_RATIO = 0.01
# A scenario that states the share of a kind of request (errors: FAILURE_SHARES) must send it at that share,
# within SHARE_STANDARD_ERRORS binomial standard errors: a draw at the stated share lands outside about once
# in 16,000 kinds checked. Never tighter than MIN_SHARE_TOLERANCE: at tens of thousands of requests four
# standard errors are a fraction of a point, less than what is not drawn at random (the requests still in
# flight at the window's edges, a user's first updates that find no item of its own and send nothing).
# (errors deals its kinds from shuffled decks, closer to the stated shares than independent draws: the
# binomial bound is then loose, and holds for a scenario that draws each request on its own.)
SHARE_STANDARD_ERRORS = 4.0
MIN_SHARE_TOLERANCE = 0.01


def cpu_utilization(*, cpu_s: float, wall_s: float, cores: int) -> float:
    """Return CPU seconds per wall second and per core (1.0: every core busy the whole time)."""
    if wall_s <= 0 or cores <= 0:
        return 0.0
    return cpu_s / (wall_s * cores)


def server_cores(*, workers: int, server_cpus: int) -> int:
    """Return how many cores the server can keep busy: one per worker process, at most the CPUs it is given.

    Python threads share one core per process (the GIL), so threads do not count.
    """
    return max(1, min(workers, server_cpus))


def generator_cores(*, processes: int, load_cpus: int) -> int:
    """Return how many cores the load generator can keep busy: one per Locust process, at most its CPUs."""
    return max(1, min(processes, load_cpus))


def server_saturated(*, server_util: float | None, server_cpus_busy: float | None) -> bool | None:
    """Return True when the server used all the CPU it could (>= 95%); None when it was not measured.

    server_util is the server's process tree over the cores it can use; server_cpus_busy is how busy its
    CPUs were with anything (the database shares them).
    """
    if server_util is None and server_cpus_busy is None:
        return None
    return max(server_util or 0.0, server_cpus_busy or 0.0) >= SERVER_SATURATION


def is_generator_bound(*, generator_util: float | None, server_saturated: bool | None) -> bool:
    """Return True when Locust used >= 90% of its CPU while the server did not saturate its own.

    With the server unmeasured (an app running elsewhere), a saturated generator is enough to say so.
    """
    if generator_util is None or generator_util < GENERATOR_SATURATION:
        return False
    return not server_saturated


def failure_error(
    *, requests: int, failures: int, failures_by_kind: dict[str, int], max_ratio: float = MAX_FAILURE_RATIO
) -> str:
    """Return why the failures make the cell invalid, or '' when they stay within the bound."""
    if requests == 0:
        return "no request completed in the measured window"
    ratio = failures / requests
    if ratio <= max_ratio:
        return ""
    top = sorted(failures_by_kind.items(), key=lambda item: -item[1])[:3]
    kinds = "; ".join(f"{kind} ({count})" for kind, count in top)
    return f"{ratio:.1%} of requests failed (bound {max_ratio:.0%}): {kinds}"


def share_tolerance(*, share: float, requests: int) -> float:
    """Return how far a share observed in requests draws may be from the stated share (a fraction)."""
    standard_error = math.sqrt(share * (1 - share) / requests) if requests > 0 else 1.0
    return max(SHARE_STANDARD_ERRORS * standard_error, MIN_SHARE_TOLERANCE)


def share_error(*, requests_by_name: Mapping[str, int], stated_shares: Mapping[str, float]) -> str:
    """Return which kinds of request were sent at another share than stated, or '' when each is within its
    tolerance (or nothing was stated or counted).

    requests_by_name counts the window's requests by "METHOD name" (the load generator's keys); a stated
    share is of a name, whatever methods were sent under it.
    """
    total = sum(requests_by_name.values())
    if not stated_shares or total == 0:
        return ""
    off = []
    for name, share in stated_shares.items():
        count = sum(n for label, n in requests_by_name.items() if name_of_label(label) == name)
        tolerance = share_tolerance(share=share, requests=total)
        if abs(count / total - share) > tolerance:
            off.append(
                f"{name} {count / total:.1%} ({count} of {total}), stated {share:.1%} ± {tolerance:.1%}"
            )
    return "request mix off its stated shares: " + "; ".join(off) if off else ""


def cell_error(
    *,
    start_error: str = "",
    loadgen_error: str = "",
    server_exit_code: int | None = None,
    requests: int = 0,
    failures: int = 0,
    failures_by_kind: dict[str, int] | None = None,
    user_errors: int = 0,
    user_error_samples: list[str] | None = None,
    data_check: str = "",
    max_failure_ratio: float = MAX_FAILURE_RATIO,
    mix_error: str = "",
) -> str:
    """Return the error of a cell ('' when valid), the most fundamental cause first."""
    if start_error:
        return f"server failed to start: {start_error}"
    if server_exit_code is not None:
        return f"server died during the cell (exit code {server_exit_code})"
    if loadgen_error:
        return loadgen_error
    if user_errors:
        samples = "; ".join((user_error_samples or [])[:2])
        return f"{user_errors} exception(s) in the scenario's code: {samples}"
    failures_text = failure_error(
        requests=requests,
        failures=failures,
        failures_by_kind=failures_by_kind or {},
        max_ratio=max_failure_ratio,
    )
    if failures_text:
        return failures_text
    if mix_error:
        return mix_error
    if data_check and not data_check.startswith(("ok", "skipped")):
        return f"data check: {data_check}"
    return ""

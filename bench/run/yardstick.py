"""The wrk yardstick: the same running server measured by wrk, so a report can show Locust's rps / wrk's rps.

parse_wrk_output is pure; ensure_wrk (find or install wrk) and run_wrk (one pinned wrk process) are the edges.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from bench.processes import STOP_TIMEOUT_S, die_with_parent, stop_process_group

log = logging.getLogger(__name__)

WRK_PACKAGE = "wrk"
APT_TIMEOUT_S = 300.0  # each of apt-get update and apt-get install
SUDO_TIMEOUT_S = 10.0
WRK_GRACE_S = 10.0  # beyond its duration, wrk may take this long before it is killed
MAX_ERROR_FRACTION = 0.01  # more socket errors and non-2xx/3xx answers than this of the requests: an error
STDERR_LINES = 3
WHAT_TO_DO = (
    f"install the Debian package {WRK_PACKAGE} (`sudo apt-get install {WRK_PACKAGE}`)"
    " or run without the yardstick"
)
CANNOT_INSTALL = "wrk is not installed and cannot be installed here ({why}): " + WHAT_TO_DO

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_RPS = re.compile(r"^Requests/sec:\s*([\d.]+)\s*$", re.MULTILINE)
_P99 = re.compile(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_SOCKET_ERRORS = re.compile(
    r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$", re.MULTILINE
)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses: (\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class WrkAvailability:
    """wrk's path (None: not available) and how it was found, or why it cannot be had."""

    path: str | None
    reason: str


@dataclass
class WrkResult:
    """What one wrk run measured; error is '' when the figures can be used."""

    rps: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    errors: int = 0  # socket errors (connect, read, write, timeout) and non-2xx/3xx answers
    error: str = ""


def parse_wrk_output(text: str) -> WrkResult:
    """Return the figures of wrk 4.x's output (with --latency), with an error when they cannot be used."""
    rps, requests = _RPS.search(text), _REQUESTS.search(text)
    if rps is None or requests is None:
        first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return WrkResult(error=f"unparsable wrk output: {first_line[:200]!r}")
    p99, socket_errors, non_2xx = _P99.search(text), _SOCKET_ERRORS.search(text), _NON_2XX.search(text)
    result = WrkResult(
        rps=float(rps.group(1)),
        p99_ms=float(p99.group(1)) * _TIME_UNITS_MS[p99.group(2)] if p99 else None,
        requests=int(requests.group(1)),
        errors=(sum(int(count) for count in socket_errors.groups()) if socket_errors else 0)
        + (int(non_2xx.group(1)) if non_2xx else 0),
    )
    if result.requests == 0:
        result.error = f"wrk completed no request ({result.errors} errors)"
    elif result.errors > MAX_ERROR_FRACTION * result.requests:
        result.error = (
            f"wrk saw {result.errors} socket errors or non-2xx/3xx answers in {result.requests} requests"
            f" (more than {MAX_ERROR_FRACTION:.0%})"
        )
    return result


@dataclass(frozen=True)
class _Completed:
    returncode: int | None  # None: killed after its timeout
    stdout: str
    stderr: str


def _run_bounded(command: list[str], *, timeout_s: float, cpus: set[int] | None = None) -> _Completed:
    """Run command in a session of its own, pinned to cpus; kill its whole group after timeout_s."""

    def prepare_child() -> None:
        die_with_parent()
        if cpus:
            os.sched_setaffinity(0, cpus)

    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=prepare_child,
    )
    returncode: int | None = None
    stdout = stderr = b""
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
        returncode = process.returncode
    except subprocess.TimeoutExpired:
        stop_process_group(process)
        with contextlib.suppress(subprocess.TimeoutExpired):
            stdout, stderr = process.communicate(timeout=STOP_TIMEOUT_S)
    finally:
        stop_process_group(process)  # also what it forked and left behind
    return _Completed(returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace"))


def run_wrk(
    *,
    url: str,
    connections: int,
    duration_s: float,
    cpus: set[int] | None,
    wrk_path: str,
    timeout_s: float | None = None,
) -> WrkResult:
    """Return what `wrk -t1` measured at url with connections open for duration_s (whole seconds, >= 1)."""
    seconds = max(1, math.ceil(duration_s))
    command = [wrk_path, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    log.debug("yardstick: %s", " ".join(command))
    timeout = seconds + WRK_GRACE_S if timeout_s is None else timeout_s
    try:
        completed = _run_bounded(command, timeout_s=timeout, cpus=cpus)
    except OSError as exc:
        return WrkResult(error=f"wrk could not start: {exc}")
    log.debug("wrk printed:\n%s%s", completed.stdout, completed.stderr)
    stderr_head = " | ".join(completed.stderr.strip().splitlines()[:STDERR_LINES])
    if completed.returncode is None:
        return WrkResult(error=f"wrk did not finish in {timeout:g} s; it was killed")
    if completed.returncode != 0:
        return WrkResult(error=f"wrk exited with code {completed.returncode}: {stderr_head or 'no stderr'}")
    result = parse_wrk_output(completed.stdout)
    if result.error.startswith("unparsable") and stderr_head:
        result.error += f"; stderr: {stderr_head}"
    return result


def _install_prefix() -> list[str] | None:
    """Return what to put before apt-get to install packages ([] as root), or None when we may not."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo is None:
        return None
    try:
        may_sudo = _run_bounded([sudo, "-n", "true"], timeout_s=SUDO_TIMEOUT_S).returncode == 0
    except OSError:
        return None
    return [sudo, "-n"] if may_sudo else None


def _apt_get(prefix: list[str], apt_get: str, *args: str) -> str:
    """Run apt-get with args; return '' when it succeeded, else what went wrong."""
    # `env` rather than Popen's env=: sudo resets the environment.
    command = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive", apt_get, "-q", *args]
    log.debug("yardstick: %s", " ".join(command))
    try:
        completed = _run_bounded(command, timeout_s=APT_TIMEOUT_S)
    except OSError as exc:
        return f"{apt_get} could not start: {exc}"
    log.debug("apt-get %s printed:\n%s%s", args[0], completed.stdout, completed.stderr)
    if completed.returncode is None:
        return f"apt-get {args[0]} did not finish in {APT_TIMEOUT_S:g} s"
    if completed.returncode != 0:
        last_lines = (completed.stderr.strip() or completed.stdout.strip()).splitlines()[-STDERR_LINES:]
        return f"apt-get {args[0]} exited with code {completed.returncode}: {' | '.join(last_lines)}"
    return ""


@functools.cache
def ensure_wrk() -> WrkAvailability:
    """Return wrk's path, installing its Debian package if allowed (once per process), or why not."""
    if path := shutil.which("wrk"):
        return WrkAvailability(path, "found on PATH")
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        return WrkAvailability(None, CANNOT_INSTALL.format(why="no apt-get"))
    prefix = _install_prefix()
    if prefix is None:
        return WrkAvailability(None, CANNOT_INSTALL.format(why="not root, no passwordless sudo"))
    log.info("wrk is not on PATH: installing the Debian package %s", WRK_PACKAGE)
    if problem := _apt_get(prefix, apt_get, "update"):
        log.warning("%s; trying to install %s from the package lists at hand", problem, WRK_PACKAGE)
    options = ["-y", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=60"]
    if problem := _apt_get(prefix, apt_get, "install", *options, WRK_PACKAGE):
        return WrkAvailability(None, f"wrk is not installed; installing it failed ({problem}): {WHAT_TO_DO}")
    if path := shutil.which("wrk"):
        log.info("installed wrk at %s", path)
        return WrkAvailability(path, f"installed the Debian package {WRK_PACKAGE}")
    return WrkAvailability(None, f"wrk is not installed; apt-get installed it, but not on PATH: {WHAT_TO_DO}")

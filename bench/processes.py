"""Child processes and ports: process groups stopped whole, children that die with their parent, PYTHONPATH.

Every process the bench starts runs in a session of its own (start_new_session) so that stopping its group
stops what it forked too, and asks Linux for SIGTERM when the bench dies without cleaning up (SIGKILL).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time

import psutil

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child before exec: ask Linux to send it SIGTERM when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def python_path(*entries: str) -> str:
    """Return a PYTHONPATH of entries (each may be a PYTHONPATH itself), in order, without repeats."""
    paths = [path for entry in entries for path in entry.split(os.pathsep) if path]
    return os.pathsep.join(path for index, path in enumerate(paths) if path not in paths[:index])


def stop_process_group(process: subprocess.Popen[bytes], *, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Stop a process started in its own session and everything it forked: SIGTERM, then SIGKILL."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("process %s ignored SIGTERM; killing it", process.pid)
    # Children may outlive a leader that exited (or was killed): sweep the whole group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout_s)
    # A signal is delivered when its process next runs, which on a busy machine takes a while: return when
    # the group is gone, so that "stopped" means no process of it runs any more.
    deadline = time.monotonic() + timeout_s
    while group_is_running(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def group_is_running(pgid: int) -> bool:
    """Return True while a process of group pgid runs (a zombie waiting to be reaped does not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for member in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(member.pid) == pgid and member.info["status"] != psutil.STATUS_ZOMBIE:
                return True
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on host that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """Return True when something accepts connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0

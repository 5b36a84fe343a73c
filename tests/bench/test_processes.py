"""bench/processes.py: process groups stopped whole, PYTHONPATH, ports."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from bench.processes import group_is_running, port_in_use, python_path, stop_process_group


def test_a_process_that_ignores_sigterm_is_killed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ready = tmp_path / "ready"
    # The process ignores SIGTERM, then says so through a file: it is not signalled before it ignores.
    ignore_sigterm = (
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        " pathlib.Path(sys.argv[1]).touch(); time.sleep(600)"
    )
    process = subprocess.Popen([sys.executable, "-c", ignore_sigterm, str(ready)], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists()
        with caplog.at_level(logging.WARNING, logger="bench.processes"):
            stop_process_group(process, timeout_s=1.0)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert "ignored SIGTERM" in caplog.text


def test_port_in_use() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        assert not port_in_use("127.0.0.1", port)  # bound, not listening
        listener.listen()
        assert port_in_use("127.0.0.1", port)


def test_stopping_a_group_returns_once_none_of_it_runs(tmp_path: Path) -> None:
    # A leader that forks a child which outlives it: the child is in the leader's group.
    spawn_child = (
        "import subprocess, sys, time;"
        " subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); time.sleep(600)"
    )
    process = subprocess.Popen([sys.executable, "-c", spawn_child], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not psutil.Process(process.pid).children():
            time.sleep(0.05)
        assert group_is_running(process.pid)
        stop_process_group(process, timeout_s=5.0)
        assert not group_is_running(process.pid)
    finally:
        if group_is_running(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_python_path_keeps_the_first_of_each_entry() -> None:
    joined = python_path("/app", os.pathsep.join(["/root", "", "/app", "/lib"]))
    assert joined == os.pathsep.join(["/app", "/root", "/lib"])

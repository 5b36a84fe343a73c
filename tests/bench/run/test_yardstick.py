"""bench/run/yardstick.py: wrk's output parsed, wrk found or installed, and wrk run against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from bench.run import yardstick
from bench.run.yardstick import WHAT_TO_DO, ensure_wrk, parse_wrk_output, run_wrk

# Real outputs of `wrk -t1 -c4 -d2s --latency URL` (Debian's wrk 4.1.0) against an http.server on 127.0.0.1.
REAL_OK = """\
Running 2s test @ http://127.0.0.1:18765/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   561.09us    0.95ms  12.07ms   88.91%
    Req/Sec    15.40k   659.69    16.83k    65.00%
  Latency Distribution
     50%  154.00us
     75%  456.00us
     90%    1.67ms
     99%    4.28ms
  30657 requests in 2.00s, 3.30MB read
Requests/sec:  15326.68
Transfer/sec:      1.65MB
"""
REAL_NOT_FOUND = """\
Running 2s test @ http://127.0.0.1:18765/missing
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   575.17us    1.01ms  16.10ms   89.09%
    Req/Sec    15.33k     0.87k   16.78k    80.95%
  Latency Distribution
     50%  154.00us
     75%  454.00us
     90%    1.72ms
     99%    4.37ms
  32028 requests in 2.10s, 3.67MB read
  Non-2xx or 3xx responses: 32028
Requests/sec:  15252.14
Transfer/sec:      1.75MB
"""
# The server closed every connection without answering.
REAL_CLOSED = """\
Running 2s test @ http://127.0.0.1:18765/close
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  0 requests in 2.00s, 0.00B read
  Socket errors: connect 0, read 8969, write 0, timeout 0
Requests/sec:      0.00
Transfer/sec:       0.00B
"""
# Each answer took 1.2 s. wrk pads the unit "s" to two characters; the trailing spaces the linter keeps out of
# the source are put back.
REAL_SLOW = """\
Running 2s test @ http://127.0.0.1:18765/slow
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20s    86.94us   1.20s    75.00%
    Req/Sec     3.00      0.00     3.00    100.00%
  Latency Distribution
     50%    1.20s
     75%    1.20s
     90%    1.20s
     99%    1.20s
  4 requests in 2.00s, 452.00B read
Requests/sec:      2.00
Transfer/sec:     225.54B
""".replace("1.20s\n", "1.20s \n")


def wrk_output(*, p99: str = "12.34ms", requests: int = 100_000, extra: str = "") -> str:
    """Return a wrk 4.x output with the given 99th percentile, request count and error lines."""
    return f"""\
Running 10s test @ http://127.0.0.1:8000/plaintext
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.10ms    1.20ms  40.00ms   90.00%
    Req/Sec    10.05k   500.00    11.00k    70.00%
  Latency Distribution
     50%    2.90ms
     75%    3.50ms
     90%    4.20ms
     99%  {p99}
  {requests} requests in 10.01s, 12.34MB read
{extra}Requests/sec:  {requests / 10.01:.2f}
Transfer/sec:      1.23MB
"""


@pytest.fixture(autouse=True)
def _fresh_ensure_wrk() -> Iterator[None]:
    ensure_wrk.cache_clear()
    yield
    ensure_wrk.cache_clear()


# --- parse_wrk_output ---------------------------------------------------------------------------------------


def test_a_real_clean_run() -> None:
    result = parse_wrk_output(REAL_OK)
    assert result.rps == pytest.approx(15326.68)
    assert result.p99_ms == pytest.approx(4.28)
    assert (result.requests, result.errors, result.error) == (30657, 0, "")


def test_a_real_run_of_non_2xx_answers_is_an_error() -> None:
    result = parse_wrk_output(REAL_NOT_FOUND)
    assert (result.requests, result.errors) == (32028, 32028)
    assert "non-2xx" in result.error


def test_a_real_run_without_a_single_answer_is_an_error() -> None:
    result = parse_wrk_output(REAL_CLOSED)
    assert (result.requests, result.errors, result.rps) == (0, 8969, 0.0)
    assert "no request" in result.error


def test_a_real_run_of_slow_answers_in_seconds() -> None:
    result = parse_wrk_output(REAL_SLOW)
    assert result.p99_ms == pytest.approx(1200.0)
    assert (result.requests, result.rps, result.error) == (4, 2.0, "")


@pytest.mark.parametrize(
    ("p99", "milliseconds"),
    [("850.00us", 0.85), ("12.34ms", 12.34), ("1.02s", 1020.0), ("1.50m", 90_000.0), ("1.00h", 3_600_000.0)],
)
def test_every_unit_of_the_99th_percentile(p99: str, milliseconds: float) -> None:
    assert parse_wrk_output(wrk_output(p99=p99)).p99_ms == pytest.approx(milliseconds)


def test_socket_errors_and_non_2xx_answers_add_up() -> None:
    extra = "  Socket errors: connect 1, read 2, write 3, timeout 4\n  Non-2xx or 3xx responses: 5\n"
    result = parse_wrk_output(wrk_output(requests=100_000, extra=extra))
    assert result.errors == 15
    assert result.error == ""  # 15 in 100,000: within the 1% allowed


def test_more_than_one_percent_of_errors_is_an_error() -> None:
    extra = "  Socket errors: connect 0, read 0, write 0, timeout 1001\n"
    result = parse_wrk_output(wrk_output(requests=100_000, extra=extra))
    assert result.errors == 1001
    assert "1001 socket errors" in result.error
    assert result.rps is not None  # the figures are kept, for the log


def test_without_a_latency_distribution_there_is_no_99th_percentile() -> None:
    text = "\n".join(line for line in REAL_OK.splitlines() if "%" not in line)
    result = parse_wrk_output(text)
    assert (result.p99_ms, result.requests, result.error) == (None, 30657, "")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "unable to connect to 127.0.0.1:1 Connection refused\n",
        "Usage: wrk <options> <url>\n  Options:\n    -c, --connections <N>  Connections to keep open\n",
        REAL_OK.replace("Requests/sec:", "Requests per second:"),
        "\x00\xff garbage 99% 1ms Requests/sec: lots\n",
    ],
)
def test_garbage_is_unparsable(text: str) -> None:
    result = parse_wrk_output(text)
    assert result.error.startswith("unparsable wrk output")
    assert (result.rps, result.p99_ms, result.requests) == (None, None, 0)


# --- run_wrk, with a stand-in for wrk -----------------------------------------------------------------------


def fake_wrk(directory: Path, body: str) -> str:
    """Return the path of an executable that stands in for wrk and runs body (Python)."""
    script = directory / "wrk"
    script.write_text(f"#!{sys.executable}\nimport json, os, sys, time\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_run_wrk_pins_wrk_in_its_own_session_and_rounds_the_duration_up(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    body = f"""
json.dump({{"args": sys.argv[1:], "cpus": sorted(os.sched_getaffinity(0)),
           "own_session": os.getsid(0) == os.getpid()}}, open({str(record)!r}, "w"))
sys.stdout.write({REAL_OK!r})
"""
    cpu = max(os.sched_getaffinity(0))
    result = run_wrk(
        url="http://127.0.0.1:9/",
        connections=7,
        duration_s=1.2,
        cpus={cpu},
        wrk_path=fake_wrk(tmp_path, body),
    )
    assert (result.requests, result.error) == (30657, "")
    seen = json.loads(record.read_text())
    assert seen == {
        "args": ["-t1", "-c7", "-d2s", "--latency", "http://127.0.0.1:9/"],
        "cpus": [cpu],
        "own_session": True,
    }


def test_run_wrk_runs_at_least_one_second(tmp_path: Path) -> None:
    record = tmp_path / "args.json"
    body = f"json.dump(sys.argv[1:], open({str(record)!r}, 'w')); sys.stdout.write({REAL_OK!r})"
    run_wrk(
        url="http://127.0.0.1:9/", connections=1, duration_s=0.2, cpus=None, wrk_path=fake_wrk(tmp_path, body)
    )
    assert "-d1s" in json.loads(record.read_text())


def test_a_failing_wrk_gives_its_exit_code_and_stderr(tmp_path: Path) -> None:
    body = "sys.stderr.write('unable to connect to 127.0.0.1:9 Connection refused\\n'); sys.exit(1)"
    result = run_wrk(
        url="http://127.0.0.1:9/", connections=1, duration_s=1, cpus=None, wrk_path=fake_wrk(tmp_path, body)
    )
    assert result.error == "wrk exited with code 1: unable to connect to 127.0.0.1:9 Connection refused"
    assert result.rps is None


def test_unparsable_output_is_an_error_with_stderr(tmp_path: Path) -> None:
    body = "print('something else'); sys.stderr.write('a warning\\n')"
    result = run_wrk(
        url="http://127.0.0.1:9/", connections=1, duration_s=1, cpus=None, wrk_path=fake_wrk(tmp_path, body)
    )
    assert result.error == "unparsable wrk output: 'something else'; stderr: a warning"


def test_a_stuck_wrk_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    body = f"open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    result = run_wrk(
        url="http://127.0.0.1:9/",
        connections=1,
        duration_s=1,
        cpus=None,
        wrk_path=fake_wrk(tmp_path, body),
        timeout_s=1.0,
    )
    assert result.error == "wrk did not finish in 1 s; it was killed"
    assert not psutil.pid_exists(int(pid_file.read_text()))


def test_a_missing_wrk_cannot_start(tmp_path: Path) -> None:
    result = run_wrk(
        url="http://127.0.0.1:9/", connections=1, duration_s=1, cpus=None, wrk_path=str(tmp_path / "wrk")
    )
    assert result.error.startswith("wrk could not start:")


# --- ensure_wrk, with stand-ins for the machine -------------------------------------------------------------

REAL_POPEN = subprocess.Popen


class FakeMachine:
    """Answers shutil.which from `installed`; runs a harmless child instead of each command, recording it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, installed: set[str], euid: int = 0) -> None:
        self.installed = set(installed)
        self.commands: list[list[str]] = []
        self.exit_codes: dict[str, int] = {}  # by a word of the command: "true" (sudo -n true), "update", ...
        monkeypatch.setattr(yardstick.shutil, "which", self.which)
        monkeypatch.setattr(yardstick.os, "geteuid", lambda: euid)
        monkeypatch.setattr(yardstick.subprocess, "Popen", self.popen)

    def which(self, name: str) -> str | None:
        return f"/usr/bin/{name}" if name in self.installed else None

    def popen(self, command: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        self.commands.append(command)
        code = next((code for word, code in self.exit_codes.items() if word in command), 0)
        if code == 0 and "install" in command:
            self.installed.add("wrk")
        complaint = "E: it went wrong" if code else ""
        child = (
            f"import sys; print('Reading package lists'); sys.stderr.write({complaint!r}); sys.exit({code})"
        )
        return REAL_POPEN([sys.executable, "-c", child], **kwargs)


def test_wrk_on_path_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = FakeMachine(monkeypatch, installed={"wrk", "apt-get"})
    assert ensure_wrk() == yardstick.WrkAvailability("/usr/bin/wrk", "found on PATH")
    assert machine.commands == []


def test_as_root_wrk_is_installed_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = FakeMachine(monkeypatch, installed={"apt-get"})
    assert ensure_wrk().path == "/usr/bin/wrk"
    assert ensure_wrk().path == "/usr/bin/wrk"
    assert machine.commands == [
        ["env", "DEBIAN_FRONTEND=noninteractive", "/usr/bin/apt-get", "-q", "update"],
        [
            "env",
            "DEBIAN_FRONTEND=noninteractive",
            "/usr/bin/apt-get",
            "-q",
            "install",
            "-y",
            "--no-install-recommends",
            "-o",
            "DPkg::Lock::Timeout=60",
            "wrk",
        ],
    ]


def test_with_passwordless_sudo_apt_get_runs_under_sudo(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = FakeMachine(monkeypatch, installed={"apt-get", "sudo"}, euid=1000)
    assert ensure_wrk().path == "/usr/bin/wrk"
    assert machine.commands[0] == ["/usr/bin/sudo", "-n", "true"]
    assert [command[:3] for command in machine.commands[1:]] == [["/usr/bin/sudo", "-n", "env"]] * 2


@pytest.mark.parametrize("sudo", [False, True])
def test_without_root_or_passwordless_sudo_the_reason_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, sudo: bool
) -> None:
    machine = FakeMachine(monkeypatch, installed={"apt-get", "sudo"} if sudo else {"apt-get"}, euid=1000)
    machine.exit_codes["true"] = 1  # sudo wants a password
    assert ensure_wrk() == yardstick.WrkAvailability(
        None,
        "wrk is not installed and cannot be installed here (not root, no passwordless sudo): install the "
        "Debian package wrk (`sudo apt-get install wrk`) or run without the yardstick",
    )
    assert all("apt-get" not in " ".join(command) for command in machine.commands)


def test_without_apt_get_the_reason_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = FakeMachine(monkeypatch, installed=set())
    reason = ensure_wrk().reason
    assert reason.startswith("wrk is not installed and cannot be installed here (no apt-get)")
    assert reason.endswith(WHAT_TO_DO)
    assert machine.commands == []


def test_a_failed_update_still_tries_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = FakeMachine(monkeypatch, installed={"apt-get"})
    machine.exit_codes["update"] = 100
    assert ensure_wrk().path == "/usr/bin/wrk"
    assert len(machine.commands) == 2


def test_a_failed_install_gives_apt_gets_last_words(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = FakeMachine(monkeypatch, installed={"apt-get"})
    machine.exit_codes["install"] = 100
    first = ensure_wrk()
    assert first.path is None
    assert first.reason == (
        f"wrk is not installed; installing it failed (apt-get install exited with code 100: "
        f"E: it went wrong): {WHAT_TO_DO}"
    )
    assert ensure_wrk() == first
    assert len(machine.commands) == 2  # the failure is remembered too: no second try in the same run


# --- the real thing -----------------------------------------------------------------------------------------


class KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave in two writes: no 40 ms delayed-ACK stalls

    def do_GET(self) -> None:
        body = b"Hello, World!"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # wrk resets its connections when it stops


@pytest.fixture
def keep_alive_server() -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), KeepAliveHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.slow
def test_wrk_measures_a_real_keep_alive_server(keep_alive_server: str) -> None:
    availability = ensure_wrk()
    if availability.path is None:
        # A machine where wrk cannot be had: the reason is the feature under test.
        assert availability.reason.startswith("wrk is not installed")
        assert availability.reason.endswith(WHAT_TO_DO)
        return
    result = run_wrk(
        url=keep_alive_server,
        connections=4,
        duration_s=1,
        cpus={min(os.sched_getaffinity(0))},
        wrk_path=availability.path,
    )
    assert result.error == ""
    assert result.requests > 0
    assert result.rps is not None and result.rps > 0
    assert result.p99_ms is not None and result.p99_ms > 0

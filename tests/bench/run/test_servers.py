"""bench/run/servers.py: setting up, starting, waiting for and stopping servers, on a tiny fake app.

The fake app's server is a standard-library HTTP server written to tmp_path; its modes make it answer /health,
never become ready, or fork a child.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import psutil
import pytest

from bench.config import ROOT, AppSpec, load_app
from bench.errors import ServerError
from bench.processes import free_port, port_in_use
from bench.run.database import sqlite_url
from bench.run.servers import (
    THREADS_ENV,
    app_environment,
    read_log_tail,
    run_setup,
    serve_app,
    start_server,
)

FAKE_SERVER = textwrap.dedent(
    """
    import http.server, json, os, subprocess, sys

    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "fork":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(sys.argv[4], "w") as handle:
            handle.write(str(child.pid))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen = {
                "database_url": os.environ.get("DATABASE_URL"),
                "cwd": os.getcwd(),
                "pythonpath": os.environ.get("PYTHONPATH", ""),
                "threads": os.environ.get("BENCH_THREADS"),
            }
            body = json.dumps(seen).encode()
            self.send_response(503 if mode == "never-ready" else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    print(f"fake server ({mode}) listening on {host}:{port}", flush=True)
    http.server.HTTPServer((host, port), Handler).serve_forever()
    """
)

APP_TOML = """
name = "fake"
framework = "fake"
setup = ["{{python}}", "-c", "import os; open(os.environ['DATABASE_URL'][10:], 'w').write('seeded')"]
admin_list_url = "/admin/"
default_server = "ok"

[servers.ok]
command = ["{{python}}", "{script}", "{{host}}", "{{port}}", "ok"]

[servers.fork]
command = ["{{python}}", "{script}", "{{host}}", "{{port}}", "fork", "{pid_file}"]

[servers.never-ready]
command = ["{{python}}", "{script}", "{{host}}", "{{port}}", "never-ready"]

[servers.exits]
command = ["{{python}}", "-c", "import sys; print('fake: no way to start, giving up'); sys.exit(3)"]
"""


@pytest.fixture
def fake_app(tmp_path: Path) -> AppSpec:
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE_SERVER)
    app_dir = tmp_path / "apps" / "fake_app"
    app_dir.mkdir(parents=True)
    (app_dir / "app.toml").write_text(APP_TOML.format(script=script, pid_file=tmp_path / "child.pid"))
    return load_app("fake", tmp_path / "apps")


def gone(pid: int) -> bool:
    """Return True when no process pid runs (a zombie waiting for its parent's wait counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_serve_app_sets_up_starts_and_stops(fake_app: AppSpec, tmp_path: Path) -> None:
    database = tmp_path / "fake.sqlite3"
    with serve_app(fake_app, database_url=sqlite_url(database), log_path=tmp_path / "server.log") as running:
        assert database.read_text() == "seeded"  # the setup command ran first, with DATABASE_URL
        assert running.alive()
        assert running.server == "ok"
        assert running.base_url == f"http://127.0.0.1:{running.port}"
        health = httpx.get(running.base_url + "/health")
        assert health.status_code == 200
        seen = health.json()
        assert seen["database_url"] == sqlite_url(database)
        # The app runs from its own tree (here tmp_path, which holds apps/fake_app), first on PYTHONPATH.
        assert Path(seen["cwd"]) == fake_app.root == tmp_path
        assert seen["pythonpath"].split(os.pathsep)[0] == str(tmp_path)
        assert running.env["BENCH_SECRET_KEY"]
        assert "fake server (ok) listening" in running.log_tail()
        pid, port = running.pid, running.port
    assert gone(pid)
    assert not port_in_use("127.0.0.1", port)


def test_a_server_that_exits_at_once_raises_with_its_log(fake_app: AppSpec) -> None:
    env = app_environment(database_url="sqlite:////tmp/unused.sqlite3")
    with (
        pytest.raises(ServerError, match="exited with code 3 before it was ready") as raised,
        start_server(fake_app, env=env, server="exits"),
    ):
        pytest.fail("the server should not have started")
    assert "no way to start, giving up" in raised.value.log_tail
    assert "no way to start, giving up" in str(raised.value)


def test_a_server_that_never_gets_ready_is_stopped(fake_app: AppSpec) -> None:
    env = app_environment(database_url="sqlite:////tmp/unused.sqlite3")
    port = free_port()
    with (
        pytest.raises(ServerError, match="not ready after"),
        start_server(fake_app, env=env, server="never-ready", port=port, ready_timeout_s=1.0),
    ):
        pytest.fail("the server should never be ready")
    assert not port_in_use("127.0.0.1", port)


def test_a_port_in_use_is_a_clear_error(fake_app: AppSpec) -> None:
    env = app_environment(database_url="sqlite:////tmp/unused.sqlite3")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with (
            pytest.raises(ServerError, match=f"port {port} on 127.0.0.1 is already in use"),
            start_server(fake_app, env=env, port=port),
        ):
            pytest.fail("the server should not start on a busy port")


def test_stopping_kills_the_children_too(fake_app: AppSpec, tmp_path: Path) -> None:
    env = app_environment(database_url="sqlite:////tmp/unused.sqlite3")
    with start_server(fake_app, env=env, server="fork") as running:
        child = int((tmp_path / "child.pid").read_text())
        assert not gone(child)
        assert psutil.Process(child).ppid() == running.pid
        leader = running.pid
    assert gone(leader)
    assert gone(child)


def test_setup_failure_raises_with_its_output(fake_app: AppSpec) -> None:
    broken = AppSpec(
        name=fake_app.name,
        directory=fake_app.directory,
        framework=fake_app.framework,
        setup=("{python}", "-c", "import sys; print('no schema for you'); sys.exit(2)"),
        admin_list_url=fake_app.admin_list_url,
        default_server=fake_app.default_server,
        servers=fake_app.servers,
    )
    env = app_environment(database_url="sqlite:////tmp/unused.sqlite3")
    with pytest.raises(ServerError, match="setup failed with exit code 2") as raised:
        run_setup(broken, env=env)
    assert "no schema for you" in raised.value.log_tail


def test_setup_runs_on_the_interpreter_it_is_given(fake_app: AppSpec, tmp_path: Path) -> None:
    marker = tmp_path / "used"
    other = tmp_path / "other-python"  # another environment's interpreter, as side A of an A/B run gets
    other.write_text(f'#!/bin/sh\necho "$@" > {marker}\nexec {sys.executable} "$@"\n')
    other.chmod(0o755)
    probe = dataclasses.replace(fake_app, setup=("{python}", "-c", "pass"))
    run_setup(probe, env=app_environment(database_url="sqlite:////tmp/unused.sqlite3"), python=str(other))
    assert marker.read_text() == "-c pass\n"


def test_start_server_gives_every_app_the_runs_threads(fake_app: AppSpec, tmp_path: Path) -> None:
    # The apps size their thread limiter and pools from BENCH_THREADS, whatever their command says.
    env = app_environment(database_url="sqlite:////tmp/unused.sqlite3", extra={THREADS_ENV: "99"})
    with start_server(fake_app, env=env, threads=3, log_path=tmp_path / "server.log") as running:
        assert httpx.get(running.base_url + "/health").json()["threads"] == "3"
        assert running.env[THREADS_ENV] == "3"


def test_app_environment() -> None:
    base = {"PATH": "/usr/bin", "PYTHONPATH": "/elsewhere", "BENCH_SECRET_KEY": "kept-secret"}
    env = app_environment(
        database_url="sqlite:////tmp/a.sqlite3", base=base, extra={"BENCH_INJECT_CPU_US": "50"}
    )
    assert env["DATABASE_URL"] == "sqlite:////tmp/a.sqlite3"
    assert env["BENCH_SECRET_KEY"] == "kept-secret"
    assert env["PYTHONPATH"].split(os.pathsep) == [str(ROOT), "/elsewhere"]
    assert env["BENCH_INJECT_CPU_US"] == "50"
    assert env["PATH"] == "/usr/bin"
    assert env["BENCH_ADMIN_PASSWORD"] and env["BENCH_USER_PASSWORD"]


def test_app_environment_generates_a_secret_per_start() -> None:
    first = app_environment(database_url="sqlite:////tmp/a.sqlite3", base={})
    second = app_environment(database_url="sqlite:////tmp/a.sqlite3", base={})
    assert len(first["BENCH_SECRET_KEY"]) >= 32
    assert first["BENCH_SECRET_KEY"] != second["BENCH_SECRET_KEY"]
    given = app_environment(database_url="sqlite:////tmp/a.sqlite3", secret_key="mine", base={})
    assert given["BENCH_SECRET_KEY"] == "mine"


def test_read_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    assert read_log_tail(log) == ""
    log.write_text("a" * 100 + "the end")
    assert read_log_tail(log, chars=7) == "the end"


def test_a_server_stops_when_the_bench_is_killed(fake_app: AppSpec, tmp_path: Path) -> None:
    """SIGKILL leaves no finally block to run: the kernel's parent-death signal stops the server instead."""
    pid_file = tmp_path / "server.pid"
    driver = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from bench.config import load_app
        from bench.run.servers import app_environment, start_server

        app = load_app("fake", Path({str(tmp_path / "apps")!r}))
        env = app_environment(database_url="sqlite:////tmp/unused.sqlite3")
        with start_server(app, env=env) as running:
            Path({str(pid_file)!r}).write_text(f"{{running.pid}} {{running.port}}")
            time.sleep(600)
        """
    )
    bench = subprocess.Popen([sys.executable, "-c", driver], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline and bench.poll() is None:
            time.sleep(0.1)
        server_pid, port = (int(part) for part in pid_file.read_text().split())
        assert not gone(server_pid)
        bench.kill()
        bench.wait()
        deadline = time.monotonic() + 15
        while not gone(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert gone(server_pid)
        assert not port_in_use("127.0.0.1", port)
    finally:
        bench.kill()
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)

"""Server process lifecycle: set up an app's database, start its production server, wait, stop it all."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.config import DEFAULT_HOST, HEALTH_PATH, ROOT, AppSpec, credentials_from_env
from bench.errors import ServerError
from bench.processes import die_with_parent, free_port, port_in_use, python_path, stop_process_group
from bench.run.usage import tree_pss_mb

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0
# The run's threads per worker, given to every app beside the command's {threads}: the apps size their thread
# limiter and connection pools from it (docs/contract.md, apps/serving.py).
THREADS_ENV = "BENCH_THREADS"
READY_POLL_S = 0.02
LOG_TAIL_CHARS = 4000


@dataclass
class RunningServer:
    app: str
    server: str
    base_url: str
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]
    startup: Startup | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        """Return True while the server's main process runs."""
        return self.process.poll() is None

    def log_tail(self) -> str:
        """Return the last few kB of the server's log."""
        return read_log_tail(self.log_path)


def read_log_tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    """Return the end of a log file, or '' when it does not exist."""
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def app_environment(
    *,
    database_url: str,
    secret_key: str | None = None,
    extra: Mapping[str, str] | None = None,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return the environment an app's setup command and server run with."""
    credentials = credentials_from_env()
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "DATABASE_URL": database_url,
            "BENCH_SECRET_KEY": secret_key or env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(48),
            "BENCH_ADMIN_PASSWORD": credentials.admin_password,
            "BENCH_USER_PASSWORD": credentials.user_password,
            "PYTHONPATH": python_path(str(ROOT), env.get("PYTHONPATH", "")),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra or {})
    return env


def process_environment(app: AppSpec, env: Mapping[str, str]) -> dict[str, str]:
    """Return env with the app's own tree first on PYTHONPATH."""
    return {**env, "PYTHONPATH": python_path(str(app.root), env.get("PYTHONPATH", ""))}


def run_setup(
    app: AppSpec, *, env: Mapping[str, str], timeout_s: float = 300.0, python: str | None = None
) -> None:
    """Run the app's setup command (schema and seed); raise ServerError with its output on failure.

    python: the interpreter (of the environment) to run it with; default this process's.
    """
    command = app.render_setup(python=python or sys.executable)
    log.debug("setting up %s: %s", app.name, " ".join(command))
    try:
        result = subprocess.run(
            command,
            cwd=app.root,
            env=process_environment(app, env),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ServerError(f"{app.name}: setup took longer than {timeout_s:.0f} s") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr)[-LOG_TAIL_CHARS:]
        raise ServerError(f"{app.name}: setup failed with exit code {result.returncode}", log_tail=output)


@dataclass(frozen=True)
class Startup:
    """How a server started: seconds from its process start to the first 200 of GET /health, the latency of
    its first page (GET FIRST_PAGE right after: template and ORM not used yet), and the memory of its
    process tree then, before any load."""

    ready_s: float
    first_request_ms: float | None
    rest_pss_mb: float | None


# The first page timed after start: a template over database rows, the coldest path of the contract.
FIRST_PAGE = "/fortunes"


def _first_page_ms(client: httpx.Client, base_url: str) -> float | None:
    """Return the latency of GET FIRST_PAGE in milliseconds (None when it does not answer)."""
    sent = time.monotonic()
    try:
        client.get(base_url + FIRST_PAGE, timeout=30.0)
    except httpx.HTTPError:
        return None
    return (time.monotonic() - sent) * 1000


def wait_until_ready(
    base_url: str, *, process: subprocess.Popen[bytes], log_path: Path, timeout_s: float
) -> Startup:
    """Return once GET /health answers 200, with how the start went; raise ServerError if the process dies
    or time runs out."""
    started = time.monotonic()
    deadline = started + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerError(
                    f"server exited with code {process.returncode} before it was ready",
                    log_tail=read_log_tail(log_path),
                )
            with contextlib.suppress(httpx.HTTPError):
                if client.get(base_url + HEALTH_PATH).status_code == 200:
                    ready_s = time.monotonic() - started
                    return Startup(
                        ready_s=ready_s,
                        first_request_ms=_first_page_ms(client, base_url),
                        rest_pss_mb=tree_pss_mb(process.pid),
                    )
            # Short: the time to the first 200 is a figure of the report, measured to this step.
            time.sleep(READY_POLL_S)
    raise ServerError(
        f"server not ready after {timeout_s:.0f} s ({base_url}{HEALTH_PATH})",
        log_tail=read_log_tail(log_path),
    )


@contextlib.contextmanager
def start_server(
    app: AppSpec,
    *,
    env: Mapping[str, str],
    server: str | None = None,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    workers: int = 1,
    threads: int = 8,
    cpus: set[int] | None = None,
    log_path: Path | None = None,
    ready_timeout_s: float = READY_TIMEOUT_S,
    python: str | None = None,
    command_prefix: Sequence[str] = (),
) -> Iterator[RunningServer]:
    """Start an app's server (its database already set up), wait until ready, yield it, stop it in finally.

    python: the interpreter (of the environment) the server runs on; default this process's.
    command_prefix: a program the server runs under (the gate's instruction counts: valgrind and its options).
    """
    variant = app.server(server)
    if port is None:
        port = free_port(host)
    elif port_in_use(host, port):
        raise ServerError(f"port {port} on {host} is already in use: choose another with --port")
    command = [
        *command_prefix,
        *variant.render(
            python=python or sys.executable,
            host=host,
            port=port,
            workers=variant.workers_for(workers),
            threads=threads,
        ),
    ]
    server_env = {**env, **variant.env, THREADS_ENV: str(threads)}
    if log_path is None:
        log_path = Path(tempfile.mkstemp(prefix=f"bench-{app.name}-", suffix=".log")[1])
    log.debug("starting %s/%s: %s", app.name, variant.name, " ".join(command))

    def prepare_child() -> None:  # runs in the child before exec
        # Workers inherit the CPU affinity. The server gets SIGTERM if the bench dies without cleaning
        # up (SIGKILL), so that no server outlives the run that started it.
        if cpus:
            os.sched_setaffinity(0, cpus)
        die_with_parent()

    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            command,
            cwd=app.root,
            env=process_environment(app, server_env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=prepare_child,
        )
    base_url = f"http://{host}:{port}"
    try:
        startup = wait_until_ready(base_url, process=process, log_path=log_path, timeout_s=ready_timeout_s)
        yield RunningServer(
            app=app.name,
            server=variant.name,
            base_url=base_url,
            host=host,
            port=port,
            process=process,
            log_path=log_path,
            env=server_env,
            startup=startup,
        )
    finally:
        stop_process_group(process)


@contextlib.contextmanager
def serve_app(
    app: AppSpec,
    *,
    database_url: str,
    server: str | None = None,
    host: str = DEFAULT_HOST,
    port: int | None = None,
    workers: int = 1,
    threads: int = 8,
    cpus: set[int] | None = None,
    extra_env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    python: str | None = None,
) -> Iterator[RunningServer]:
    """Set up the app's database, then start its server: what `bench serve` and the contract suite do.

    python: the interpreter of the app's environment (a versions run's); default this process's."""
    env = app_environment(database_url=database_url, extra=extra_env)
    run_setup(app, env=env, python=python)
    with start_server(
        app,
        env=env,
        server=server,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        cpus=cpus,
        log_path=log_path,
        python=python,
    ) as running:
        yield running

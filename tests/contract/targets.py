"""What the contract suite runs against: the targets chosen by the environment, and a running app as the
tests see it. (Test modules import these from here, not from conftest, whose module name is not unique.)

- BENCH_TEST_APPS: a comma list of app names (default: every app with an app.toml);
- BENCH_TEST_DBS: a comma list of sqlite, postgres (default: both);
- BENCH_TEST_SERVERS: a comma list of server variants, "all" or "default" (default: all, every variant but the
  sensitivity copies that only change the worker count);
- BENCH_TEST_PYTHON: the interpreter the apps' setup and servers run on (default: the suite's own); a versions
  run points it at each environment's (bench/run/environments/correctness.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bench.config import AppSpec, discover_apps, env_value, load_app
from bench.run.database import DB_KINDS
from bench.run.servers import RunningServer

# Two workers, so that every request may land on another process: state must live in the database and in
# signed cookies, as in a benchmark run.
CONTRACT_WORKERS = 2
REQUEST_TIMEOUT_S = 60.0
ADMIN, USER = "admin", "user"


@dataclass(frozen=True)
class Target:
    """One combination the suite runs against."""

    app: str
    database: str
    server: str

    @property
    def label(self) -> str:
        return f"{self.app}-{self.database}-{self.server}"


def _env_list(name: str) -> list[str] | None:
    raw = env_value(name)
    if raw is None or not raw.strip():
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def server_python() -> str | None:
    """Return the interpreter the apps run on, BENCH_TEST_PYTHON (None: the one running the suite)."""
    return env_value("BENCH_TEST_PYTHON") or None


def selected_targets() -> list[Target]:
    """Return the (app, database, server) combinations chosen by BENCH_TEST_APPS, _DBS and _SERVERS."""
    known_apps = discover_apps()
    apps = _env_list("BENCH_TEST_APPS") or known_apps
    unknown = sorted(set(apps) - set(known_apps))
    if unknown:
        raise pytest.UsageError(
            f"BENCH_TEST_APPS names {', '.join(unknown)}; known apps: {', '.join(known_apps) or 'none'}"
        )
    databases = _env_list("BENCH_TEST_DBS") or list(DB_KINDS)
    bad_databases = sorted(set(databases) - set(DB_KINDS))
    if bad_databases:
        raise pytest.UsageError(
            f"BENCH_TEST_DBS: unknown {', '.join(bad_databases)} (use {', '.join(DB_KINDS)})"
        )
    wanted_servers = _env_list("BENCH_TEST_SERVERS")
    targets = []
    for app_name in apps:
        spec = load_app(app_name)
        if wanted_servers == ["default"]:
            servers = [spec.default_server]
        elif wanted_servers is None or wanted_servers == ["all"]:
            # A sensitivity variant (`extends`) runs its base's code and settings, tested as its base.
            servers = sorted(spec.primary_servers)
        else:
            servers = [name for name in wanted_servers if name in spec.servers]
            if not servers:
                raise pytest.UsageError(
                    f"BENCH_TEST_SERVERS={','.join(wanted_servers)}: app {app_name!r} has none of them "
                    f"(it has {', '.join(sorted(spec.servers))})"
                )
        targets.extend(Target(app_name, database, server) for database in databases for server in servers)
    return targets


@dataclass
class AppServer:
    """A running app as the tests see it: its URL, its database, its configuration."""

    target: Target
    spec: AppSpec
    running: RunningServer
    database_url: str
    # The World table as the setup command left it, read before any test ran /updates.
    seeded_world: dict[int, int]
    # The PostgreSQL server's log, where the statements of the app's database are written (None on SQLite).
    postgres_log: Path | None = None

    @property
    def base_url(self) -> str:
        return self.running.base_url

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def driver(self) -> str:
        """Return the database driver of this target as its app.toml describes it (e.g. "asyncpg")."""
        return self.spec.servers[self.target.server].drivers.get(self.target.database, "")

    @property
    def secret_key(self) -> str:
        return self.running.env["BENCH_SECRET_KEY"]

    def password_of(self, username: str) -> str:
        variable = {ADMIN: "BENCH_ADMIN_PASSWORD", USER: "BENCH_USER_PASSWORD"}[username]
        return self.running.env[variable]

    def client(self, *, cookies: httpx.Cookies | None = None) -> httpx.Client:
        """Return a new HTTP client for this server that follows no redirects."""
        return httpx.Client(
            base_url=self.base_url, timeout=REQUEST_TIMEOUT_S, follow_redirects=False, cookies=cookies
        )

"""Fixtures of the contract suite: one real server per (app, database, server variant).

Each server starts as `bench serve` starts it (the app's setup command, then its production server on
loopback) and is shared by every test of that target.

Which targets run comes from the environment:
- BENCH_TEST_APPS: a comma list of app names (default: every app with an app.toml);
- BENCH_TEST_DBS: a comma list of sqlite, postgres (default: both);
- BENCH_TEST_SERVERS: a comma list of server variants, or "all" (default: each app's default server).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from html_forms import log_in
from stored_rows import read_random_numbers

from bench.config import AppSpec, discover_apps, env_value, load_app
from bench.database import DB_KINDS, PostgresCluster, postgres_cluster, sqlite_url
from bench.servers import RunningServer, serve_app

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
        if wanted_servers is None:
            servers = [spec.default_server]
        elif wanted_servers == ["all"]:
            servers = sorted(spec.servers)
        else:
            servers = [name for name in wanted_servers if name in spec.servers]
            if not servers:
                raise pytest.UsageError(
                    f"BENCH_TEST_SERVERS={','.join(wanted_servers)}: app {app_name!r} has none of them "
                    f"(it has {', '.join(sorted(spec.servers))})"
                )
        targets.extend(Target(app_name, database, server) for database in databases for server in servers)
    return targets


TARGETS = selected_targets()


@dataclass
class AppServer:
    """A running app as the tests see it: its URL, its database, its configuration."""

    target: Target
    spec: AppSpec
    running: RunningServer
    database_url: str
    # The World table as the setup command left it, read before any test ran /updates.
    seeded_world: dict[int, int]

    @property
    def base_url(self) -> str:
        return self.running.base_url

    @property
    def name(self) -> str:
        return self.spec.name

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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throw-away PostgreSQL cluster for the whole session; each target gets its own database in it."""
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session", params=TARGETS, ids=[target.label for target in TARGETS])
def app_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    """Start the target's app on a fresh, seeded database; pytest groups the tests by target, so each server
    starts once and stops before the next one starts."""
    target: Target = request.param
    spec = load_app(target.app)
    workdir = tmp_path_factory.mktemp(target.label)
    if target.database == "sqlite":
        database_url = sqlite_url(workdir / "contract.sqlite3")
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        database_url = cluster.create_database(re.sub(r"\W", "_", f"contract_{target.app}_{target.server}"))
    with serve_app(
        spec,
        database_url=database_url,
        server=target.server,
        workers=CONTRACT_WORKERS,
        log_path=workdir / "server.log",
    ) as running:
        yield AppServer(
            target=target,
            spec=spec,
            running=running,
            database_url=database_url,
            seeded_world=read_random_numbers(database_url),
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the tail of the server's log to a failed test's report: that is where a 500's cause is."""
    report: pytest.TestReport = yield
    server = getattr(item, "funcargs", {}).get("app_server")
    if report.failed and isinstance(server, AppServer):
        report.sections.append(("server log (tail)", server.running.log_tail()))
    return report


@pytest.fixture
def client(app_server: AppServer) -> Iterator[httpx.Client]:
    """An anonymous client with an empty cookie jar."""
    with app_server.client() as anonymous:
        yield anonymous


def _token(app_server: AppServer, username: str) -> str:
    with app_server.client() as anonymous:
        response = anonymous.post(
            "/api/auth/token", data={"username": username, "password": app_server.password_of(username)}
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


# Password hashing costs ~0.2 s per login by design: tokens and sessions are obtained once per server.
@pytest.fixture(scope="session")
def admin_token(app_server: AppServer) -> str:
    return _token(app_server, ADMIN)


@pytest.fixture(scope="session")
def user_token(app_server: AppServer) -> str:
    return _token(app_server, USER)


@pytest.fixture
def admin_auth(admin_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"}


@pytest.fixture
def user_auth(user_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user_token}"}


def _session_cookies(app_server: AppServer, username: str) -> httpx.Cookies:
    with app_server.client() as browser:
        response = log_in(browser, username=username, password=app_server.password_of(username))
        assert response.status_code == 303, (
            f"login as {username}: {response.status_code} {response.text[:500]}"
        )
        return httpx.Cookies(browser.cookies)


@pytest.fixture(scope="session")
def admin_session(app_server: AppServer) -> httpx.Cookies:
    return _session_cookies(app_server, ADMIN)


@pytest.fixture(scope="session")
def user_session(app_server: AppServer) -> httpx.Cookies:
    return _session_cookies(app_server, USER)


@pytest.fixture
def admin_browser(app_server: AppServer, admin_session: httpx.Cookies) -> Iterator[httpx.Client]:
    """A client logged in as admin through /login (its own copy of the session cookies)."""
    with app_server.client(cookies=httpx.Cookies(admin_session)) as browser:
        yield browser


@pytest.fixture
def user_browser(app_server: AppServer, user_session: httpx.Cookies) -> Iterator[httpx.Client]:
    """A client logged in as user (not staff) through /login."""
    with app_server.client(cookies=httpx.Cookies(user_session)) as browser:
        yield browser

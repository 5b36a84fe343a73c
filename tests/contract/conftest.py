"""Fixtures of the contract suite: one real server per (app, database, server variant).

Each server starts as `bench serve` starts it (the app's setup command, then its production server on
loopback) and is shared by every test of that target. Which targets run comes from BENCH_TEST_APPS,
BENCH_TEST_DBS and BENCH_TEST_SERVERS (see targets.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import statements
from html_forms import log_in
from stored_rows import read_random_numbers
from targets import ADMIN, CONTRACT_WORKERS, USER, AppServer, Target, selected_targets, server_python

from bench.config import load_app
from bench.run.database import PostgresCluster, postgres_cluster, sqlite_url
from bench.run.servers import serve_app

TARGETS = selected_targets()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throw-away PostgreSQL cluster for the whole session; each target gets its own database in it."""
    with postgres_cluster(count_statements=True) as cluster:
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
    postgres_log = None
    if target.database == "sqlite":
        database_url = sqlite_url(workdir / "contract.sqlite3")
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        database_url = cluster.create_database(re.sub(r"\W", "_", f"contract_{target.app}_{target.server}"))
        statements.enable(database_url)
        postgres_log = cluster.log_file
    with serve_app(
        spec,
        database_url=database_url,
        server=target.server,
        workers=CONTRACT_WORKERS,
        log_path=workdir / "server.log",
        python=server_python(),
    ) as running:
        yield AppServer(
            target=target,
            spec=spec,
            running=running,
            database_url=database_url,
            seeded_world=read_random_numbers(database_url),
            postgres_log=postgres_log,
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests marked postgres_only on SQLite targets (they need PostgreSQL: statistics, locks)."""
    kept, deselected = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        target = callspec.params.get("app_server") if callspec is not None else None
        on_sqlite = isinstance(target, Target) and target.database != "postgres"
        (deselected if on_sqlite and item.get_closest_marker("postgres_only") else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


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

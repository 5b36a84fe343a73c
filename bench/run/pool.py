"""The servers of a run: one per app and server variant, each on its own copy of its app's seeded database.

Each app's database is set up once per run (its setup command: schema and seed) and kept as a template;
a server starts on a fresh copy of it. Servers stay up between cells that only read, and are restarted on a
fresh copy for a cell that writes, so that every writing cell starts from the seed and its writes can be
checked. Several servers may be up at once (idle ones cost nothing measurable); stopping the pool stops
them all, and the PostgreSQL cluster when there is one.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from bench.config import AppSpec
from bench.run.database import PostgresCluster, kind_of, postgres_cluster, remove_sqlite, sqlite_url
from bench.run.servers import RunningServer, app_environment, run_setup, start_server

log = logging.getLogger(__name__)


def _identifier(*parts: str) -> str:
    """Return a database or file name made of parts (letters, digits and _ only)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts)).lower()


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy an SQLite database consistently (the backup API, not a file copy that could miss the WAL)."""
    remove_sqlite(target)
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


@dataclass
class _Server:
    running: RunningServer
    database_url: str
    stack: contextlib.ExitStack
    copies: int = 0


@dataclass
class ServerPool:
    """Starts, reuses and stops the servers of a run. Use it as a context manager."""

    apps: Mapping[str, AppSpec]
    db: str  # sqlite, postgres or a DATABASE_URL
    workdir: Path
    logs_dir: Path
    workers: int = 1
    threads: int = 8
    server_cpus: set[int] | None = None
    db_cpus: set[int] | None = None  # the PostgreSQL cluster's (None: the server's)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    python: str | None = None  # the interpreter of the apps' environment; None: this process's
    # A versions run's pools share one PostgreSQL cluster (the caller's: it outlives them), each pool's
    # databases and logs named with its prefix
    cluster: PostgresCluster | None = None
    prefix: str = ""
    _templates: dict[str, str] = field(default_factory=dict, init=False)
    _servers: dict[tuple[str, str], _Server] = field(default_factory=dict, init=False)
    _starts: dict[tuple[str, str], int] = field(default_factory=dict, init=False)
    _cluster: PostgresCluster | None = field(default=None, init=False)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, init=False)

    def __enter__(self) -> ServerPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def db_kind(self) -> str:
        return self.db if self.db in ("sqlite", "postgres") else kind_of(self.db)

    @property
    def fresh_copies(self) -> bool:
        """False when the database is a given URL: it is used as it is, never copied."""
        return self.db in ("sqlite", "postgres")

    def _name(self, *parts: str) -> str:
        """Return the name of one of this pool's databases or log files."""
        return _identifier(*(part for part in (self.prefix, *parts) if part))

    def _postgres(self) -> PostgresCluster:
        if self._cluster is None and self.cluster is not None:
            self._cluster = self.cluster
        if self._cluster is None:
            cpus = self.db_cpus if self.db_cpus is not None else self.server_cpus
            self._cluster = self._stack.enter_context(postgres_cluster(cpus=cpus))
        return self._cluster

    @property
    def database_pid(self) -> int | None:
        """Return the pid of the pool's PostgreSQL postmaster (its tree is the database's CPU), or None
        (SQLite, a given URL, or no cluster started yet)."""
        return self._cluster.postmaster_pid if self._cluster is not None else None

    def _template(self, app: AppSpec) -> str:
        """Return the URL of the app's seeded template database, setting it up the first time."""
        if app.name not in self._templates:
            if self.db == "sqlite":
                url = sqlite_url(self.workdir / f"{self._name(app.name, 'template')}.sqlite3")
            elif self.db == "postgres":
                url = self._postgres().create_database(self._name(app.name, "template"))
            else:
                url = self.db
            log.debug("setting up the %s database (schema and seed)", app.name)
            run_setup(app, env=app_environment(database_url=url, extra=self.extra_env), python=self.python)
            self._templates[app.name] = url
        return self._templates[app.name]

    def _fresh_database(self, app: AppSpec, server: str, copy: int) -> str:
        template = self._template(app)
        name = self._name(app.name, server, str(copy))
        if self.db == "sqlite":
            target = self.workdir / f"{name}.sqlite3"
            copy_sqlite(Path(template.removeprefix("sqlite:///")), target)
            return sqlite_url(target)
        if self.db == "postgres":
            cluster = self._postgres()
            import psycopg  # only PostgreSQL runs need it

            with psycopg.connect(cluster.url("postgres"), autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._name(app.name, "template")}"')
            return cluster.url(name)
        return template

    def _drop_database(self, url: str) -> None:
        if not self.fresh_copies:
            return
        if self.db == "sqlite":
            remove_sqlite(Path(url.removeprefix("sqlite:///")))
        elif self._cluster is not None:
            import psycopg

            name = url.rsplit("/", 1)[1]
            with psycopg.connect(self._cluster.url("postgres"), autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def get(self, app_name: str, server: str, *, fresh: bool) -> RunningServer:
        """Return the running server of app_name/server, started (on a fresh database) when needed.

        fresh: restart it on a new copy of the seeded database even when it runs. Raises ServerError (with
        the log's tail) when it does not start.
        """
        key = (app_name, server)
        current = self._servers.get(key)
        if current is not None and current.running.alive() and not fresh:
            return current.running
        self.stop(app_name, server)
        app = self.apps[app_name]
        start = self._starts[key] = self._starts.get(key, 0) + 1
        database_url = self._fresh_database(app, server, start)
        stack = contextlib.ExitStack()
        try:
            running = stack.enter_context(
                start_server(
                    app,
                    env=app_environment(database_url=database_url, extra=self.extra_env),
                    server=server,
                    workers=self.workers,
                    threads=self.threads,
                    cpus=self.server_cpus,
                    log_path=self.logs_dir / f"{self._name(app_name, server)}-{start}.log",
                    python=self.python,
                )
            )
        except BaseException:
            stack.close()
            self._drop_database(database_url)
            raise
        self._servers[key] = _Server(running=running, database_url=database_url, stack=stack)
        return running

    def get_running(self, app_name: str, server: str) -> RunningServer | None:
        """Return app/server as last started (alive or not), or None."""
        current = self._servers.get((app_name, server))
        return current.running if current is not None else None

    def database_url(self, app_name: str, server: str) -> str:
        """Return the database URL the app/server runs on now."""
        return self._servers[(app_name, server)].database_url

    def stop(self, app_name: str, server: str) -> None:
        """Stop app/server if it runs (or died) and drop its database copy."""
        current = self._servers.pop((app_name, server), None)
        if current is not None:
            current.stack.close()
            self._drop_database(current.database_url)

    def close(self) -> None:
        """Stop every server, then the database cluster."""
        try:
            for app_name, server in list(self._servers):
                self.stop(app_name, server)
        finally:
            self._stack.close()

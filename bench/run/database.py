"""Databases for the apps: a fresh SQLite file, or a private throw-away PostgreSQL cluster."""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.config import scratch_root
from bench.errors import DatabaseError
from bench.processes import free_port

log = logging.getLogger(__name__)

POSTGRES_USER = "bench"
# initdb and postgres refuse to run as root; when we are root they run as this system user.
POSTGRES_OS_USER = "postgres"
DB_KINDS = ("sqlite", "postgres")
STATEMENTS_EXTENSION = "pg_stat_statements"
# The log line prefix of a cluster that counts statements: PostgreSQL's default plus the database's name, so
# that the contract suite can read the statements of one database from the server's log. (pg_ctl hands its
# options to a shell: the quotes keep the value one word.)
LOG_LINE_PREFIX = "'%m [%p] db=%d '"


def scratch_directory(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """Return a temporary directory for databases and server files, in memory when the machine allows."""
    root = scratch_root()
    return tempfile.TemporaryDirectory(prefix=prefix, dir=None if root is None else str(root))


def sqlite_url(path: Path) -> str:
    """Return the DATABASE_URL of an SQLite file (an absolute path)."""
    return f"sqlite:///{path.resolve()}"


def remove_sqlite(path: Path) -> None:
    """Remove an SQLite database file and its write-ahead log and shared-memory files, where they exist."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


def kind_of(database_url: str) -> str:
    """Return 'sqlite' or 'postgres' for a DATABASE_URL."""
    if database_url.startswith("sqlite:"):
        return "sqlite"
    if database_url.startswith(("postgresql:", "postgres:")):
        return "postgres"
    raise DatabaseError(f"unsupported DATABASE_URL {database_url!r}: use sqlite:/// or postgresql://")


def _demote_user() -> str | None:
    """Return the OS user to run PostgreSQL as (None: the current one)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError as exc:
        raise DatabaseError(
            f"running as root, PostgreSQL needs the system user {POSTGRES_OS_USER!r}, which is missing"
        ) from exc
    return POSTGRES_OS_USER


def _require_binaries() -> None:
    missing = [tool for tool in ("initdb", "pg_ctl", "postgres") if shutil.which(tool) is None]
    if missing:
        raise DatabaseError(
            "PostgreSQL server binaries not on PATH: "
            + ", ".join(missing)
            + " (install Debian's postgresql package, or pass --db URL of a running server)"
        )


@dataclass
class PostgresCluster:
    host: str
    port: int
    data_dir: Path
    socket_dir: Path
    log_file: Path  # the server's log (pg_ctl -l): what log_statement writes, for the contract suite

    @property
    def postmaster_pid(self) -> int | None:
        """Return the pid of the cluster's postmaster (the root of its process tree), or None."""
        return postmaster_pid(self.data_dir)

    def url(self, database: str) -> str:
        """Return the DATABASE_URL of one database of this cluster."""
        return f"postgresql://{POSTGRES_USER}@{self.host}:{self.port}/{database}"

    def _psql_command(self, sql: str) -> None:
        import psycopg  # imported here: only PostgreSQL runs need it

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, name: str) -> str:
        """Create (or re-create, empty) the database called name and return its URL."""
        if not name.replace("_", "").isalnum():
            raise DatabaseError(f"database name {name!r}: letters, digits and _ only")
        self._psql_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._psql_command(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def postgres_cluster(
    *, host: str = "127.0.0.1", cpus: set[int] | None = None, count_statements: bool = False
) -> Iterator[PostgresCluster]:
    """Yield a private PostgreSQL cluster on a free port of host; stop and remove it on exit.

    count_statements loads pg_stat_statements (the contract suite counts the queries of a request with it;
    benchmark runs leave it out, as it costs every statement a little).
    """
    _require_binaries()
    demote = _demote_user()
    root = scratch_root()
    base = Path(tempfile.mkdtemp(prefix="bench-pg-", dir=None if root is None else str(root)))
    data_dir, socket_dir = base / "data", base / "run"
    socket_dir.mkdir()
    if demote:
        entry = pwd.getpwnam(POSTGRES_OS_USER)
        for path in (base, socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    log_file = base / "postgres.log"
    port = free_port(host)
    started = False
    try:
        _run(
            [
                "initdb",
                "-D",
                str(data_dir),
                "-U",
                POSTGRES_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            demote=demote,
            cpus=cpus,
        )
        options = (
            f"-h {host} -p {port} -k {socket_dir} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB"
        )
        if count_statements:
            options += (
                f" -c shared_preload_libraries={STATEMENTS_EXTENSION} -c log_line_prefix={LOG_LINE_PREFIX}"
            )
        # pg_ctl runs with the cluster's affinity from its exec on, so the postmaster and every process it
        # forks (checkpointer, walwriter, background writer, autovacuum, backends) inherit it: pinning the
        # postmaster afterwards would leave the processes it had already forked wherever the runner was.
        _run(
            ["pg_ctl", "-D", str(data_dir), "-l", str(log_file), "-o", options, "-w", "-t", "60", "start"],
            demote=demote,
            cpus=cpus,
        )
        started = True
        log.debug("PostgreSQL cluster on %s:%s in %s", host, port, base)
        yield PostgresCluster(
            host=host, port=port, data_dir=data_dir, socket_dir=socket_dir, log_file=log_file
        )
    finally:
        if started:
            with contextlib.suppress(DatabaseError):
                _run(["pg_ctl", "-D", str(data_dir), "-m", "immediate", "-w", "stop"], demote=demote)
        shutil.rmtree(base, ignore_errors=True)


def postmaster_pid(data_dir: Path) -> int | None:
    """Return the postmaster's pid from the first line of a data directory's postmaster.pid, or None."""
    try:
        return int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _run(command: list[str], *, demote: str | None, cpus: set[int] | None = None) -> None:
    """Run a PostgreSQL tool (as the demoted user when given), on cpus from before its exec when given."""

    def set_affinity() -> None:
        # In the child, after the switch to the demoted user: a process may always narrow its own affinity.
        if cpus:
            os.sched_setaffinity(0, cpus)

    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        user=demote,
        preexec_fn=set_affinity if cpus else None,
    )
    if result.returncode != 0:
        raise DatabaseError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


@contextlib.contextmanager
def prepared_database(
    choice: str, *, name: str, workdir: Path, cpus: set[int] | None = None
) -> Iterator[str]:
    """Yield a DATABASE_URL for the --db choice: 'sqlite', 'postgres' (a throw-away cluster) or a URL.

    For 'sqlite' and 'postgres' the database is new and empty; a URL is used as given.
    """
    if choice == "sqlite":
        path = workdir / f"{name}.sqlite3"
        remove_sqlite(path)
        yield sqlite_url(path)
    elif choice == "postgres":
        with postgres_cluster(cpus=cpus) as cluster:
            yield cluster.create_database(name)
    else:
        kind_of(choice)
        yield choice

"""bench/run/database.py: SQLite URLs, kinds of DATABASE_URL, fresh databases, throw-away PostgreSQL
clusters."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.errors import DatabaseError
from bench.processes import free_port
from bench.run.database import PostgresCluster, kind_of, postgres_cluster, prepared_database, sqlite_url

needs_postgres = pytest.mark.skipif(
    shutil.which("initdb") is None or shutil.which("pg_ctl") is None,
    reason="PostgreSQL server binaries (initdb, pg_ctl) are not on PATH",
)


def test_sqlite_url_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = sqlite_url(Path("relative.sqlite3"))
    assert url == f"sqlite:///{tmp_path.resolve()}/relative.sqlite3"
    assert url.startswith("sqlite:////")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("sqlite:////tmp/x.sqlite3", "sqlite"),
        ("sqlite:///./bench.sqlite3", "sqlite"),
        ("postgresql://bench@127.0.0.1:5432/db", "postgres"),
        ("postgres://bench@localhost/db", "postgres"),
    ],
)
def test_kind_of(url: str, kind: str) -> None:
    assert kind_of(url) == kind


@pytest.mark.parametrize("url", ["mysql://root@localhost/db", "", "/tmp/x.sqlite3"])
def test_kind_of_rejects_other_urls(url: str) -> None:
    with pytest.raises(DatabaseError, match="unsupported DATABASE_URL"):
        kind_of(url)


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_prepared_sqlite_database_is_new(tmp_path: Path) -> None:
    leftovers = [tmp_path / f"demo.sqlite3{suffix}" for suffix in ("", "-wal", "-shm")]
    for leftover in leftovers:
        leftover.write_text("old run")
    with prepared_database("sqlite", name="demo", workdir=tmp_path) as url:
        assert url == sqlite_url(tmp_path / "demo.sqlite3")
        assert not any(leftover.exists() for leftover in leftovers)
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            assert connection.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_prepared_database_passes_a_url_through(tmp_path: Path) -> None:
    given = "postgresql://someone@db.example:5432/bench"
    with prepared_database(given, name="demo", workdir=tmp_path) as url:
        assert url == given


def test_prepared_database_rejects_an_unknown_choice(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError), prepared_database("oracle", name="demo", workdir=tmp_path):
        pass


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    with postgres_cluster() as running:
        yield running


@needs_postgres
def test_cluster_creates_usable_databases(cluster: PostgresCluster) -> None:
    import psycopg

    url = cluster.create_database("bench_test_one")
    assert url == f"postgresql://bench@127.0.0.1:{cluster.port}/bench_test_one"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE world (id integer PRIMARY KEY, random_number integer)")
        connection.execute("INSERT INTO world VALUES (1, 42)")
        assert connection.execute("SELECT random_number FROM world").fetchone() == (42,)
    # Creating it again gives an empty database, even while a connection to the old one is open.
    holder = psycopg.connect(url)
    try:
        url = cluster.create_database("bench_test_one")
        with pytest.raises(psycopg.OperationalError):
            holder.execute("SELECT 1")
    finally:
        holder.close()
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'world'"
        )
        assert tables.fetchone() == (0,)


@needs_postgres
@pytest.mark.parametrize("name", ["bad-name", "x; DROP DATABASE postgres", 'q"uote'])
def test_cluster_rejects_unsafe_database_names(cluster: PostgresCluster, name: str) -> None:
    with pytest.raises(DatabaseError, match="letters, digits and _ only"):
        cluster.create_database(name)


@needs_postgres
def test_cluster_is_removed_on_exit() -> None:
    with postgres_cluster() as running:
        data_dir = running.data_dir
        assert (data_dir / "PG_VERSION").exists()
        port = running.port
    assert not data_dir.exists()
    assert not data_dir.parent.exists()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "PostgreSQL still listens after the cluster closed"


@needs_postgres
def test_prepared_postgres_database(tmp_path: Path) -> None:
    import psycopg

    with prepared_database("postgres", name="demo", workdir=tmp_path) as url:
        assert kind_of(url) == "postgres"
        assert url.endswith("/demo")
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT current_database()").fetchone() == ("demo",)


@needs_postgres
def test_every_process_of_a_pinned_cluster_runs_on_its_cpus() -> None:
    """The cluster starts on its CPUs: the processes the postmaster forks at start-up (checkpointer,
    walwriter, background writer, autovacuum launcher...) and a backend forked later are all pinned."""
    import psutil
    import psycopg

    wanted = {max(os.sched_getaffinity(0))}  # one allowed CPU, not the runner's whole set
    with postgres_cluster(cpus=wanted) as running:
        pid = running.postmaster_pid
        assert pid is not None
        assert pid == int((running.data_dir / "postmaster.pid").read_text().splitlines()[0])
        with psycopg.connect(running.url("postgres")) as connection:
            connection.execute("SELECT 1")  # a backend exists while this connection is open
            postmaster = psutil.Process(pid)
            processes = [postmaster, *postmaster.children(recursive=True)]
            affinities = {process.pid: os.sched_getaffinity(process.pid) for process in processes}
    assert len(processes) >= 4, "the postmaster, its background processes and a backend"
    assert affinities == dict.fromkeys(affinities, wanted)

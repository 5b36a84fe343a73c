"""The SQL statements an app sends to PostgreSQL for one request: how many of each kind, in what order, and
whether they ran as prepared statements.

Two records of the contract suite's cluster (bench.database.postgres_cluster(count_statements=True)) say it:

- pg_stat_statements counts calls and rows per statement. Its track_utility is on (PostgreSQL's default), so
  BEGIN, COMMIT and ROLLBACK are counted too. SELECT and UPDATE are counted for the statements that name one
  table; any other statement is counted as `others`.
- The server's log, with log_statement = 'all' set on each app's database (`enable`), gives the order, and
  names a prepared statement: "execute <unnamed>: ..." is parsed and planned for this run only, "execute
  _pg3_0: ..." (psycopg) or "execute __asyncpg_stmt_1__: ..." runs a statement prepared on the connection,
  "statement: ..." is the simple protocol (Django's client-side binding), never prepared.

The counters are cluster-wide and the log is shared: between `reset` and `count` nothing but the request under
test may use the cluster. The suite runs one app server at a time; the counting connection's own statements
name pg_stat_statements and are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from targets import AppServer

from bench.run.database import STATEMENTS_EXTENSION

# The first word of a transaction-control statement, by what it does (the drivers may add "ISOLATION
# LEVEL ..." to BEGIN; END and ABORT are PostgreSQL's synonyms).
_TRANSACTION_WORDS = {
    "begin": "BEGIN",
    "start": "BEGIN",
    "commit": "COMMIT",
    "end": "COMMIT",
    "rollback": "ROLLBACK",
    "abort": "ROLLBACK",
}
# A statement as log_statement = 'all' writes it: simple protocol, or the execute step of the extended one.
# The line prefix ends in "db=NAME " (bench.run.database.LOG_LINE_PREFIX).
_LOGGED_STATEMENT = re.compile(
    r"\bdb=(?P<database>\S*) LOG:  (?:statement|execute (?P<name>[^:]+)): (?P<sql>.*)$"
)
_UNNAMED = "<unnamed>"

# The drivers that prepare every statement they run (asyncpg, through its statement cache): the one way the
# statements of a request may differ between apps besides ONE_UPDATE_FOR_ALL_ROWS in test_performance
# (docs/contract.md, "SQL per request").
PREPARING_DRIVERS = frozenset({"asyncpg"})


@dataclass(frozen=True)
class Statements:
    """What one request sent to its database."""

    begins: int
    commits: int
    rollbacks: int
    selects: int  # calls of SELECT statements that name the table
    selected_rows: int
    updates: int  # calls of UPDATE statements that name the table
    updated_rows: int
    others: int  # calls of any other statement (none expected)
    # The kinds of statement in the order they ran, a run of the same kind written once:
    # ("BEGIN", "SELECT", "UPDATE", "COMMIT") for 20 SELECTs then 20 UPDATEs in one transaction.
    order: tuple[str, ...]
    prepared: bool  # some statement ran as a statement prepared on the connection
    # The server log's lines of the request, to show when an assertion fails.
    log: tuple[str, ...] = field(default=(), compare=False, repr=False)


def autocommit_reads(*, selects: int, rows: int, prepared: bool) -> Statements:
    """Return what a read-only request sends in every app: its SELECTs in autocommit, nothing else."""
    return Statements(
        begins=0,
        commits=0,
        rollbacks=0,
        selects=selects,
        selected_rows=rows,
        updates=0,
        updated_rows=0,
        others=0,
        order=("SELECT",),
        prepared=prepared,
    )


def enable(database_url: str) -> None:
    """Create the statistics view in the database of database_url and log every statement run there
    (idempotent; sessions opened from now on)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"CREATE EXTENSION IF NOT EXISTS {STATEMENTS_EXTENSION}")
        name = connection.info.dbname
        connection.execute(
            sql.SQL("ALTER DATABASE {} SET log_statement = 'all'").format(sql.Identifier(name))
        )


def reset(database_url: str) -> None:
    """Zero the counters of every statement of the cluster."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("SELECT pg_stat_statements_reset()")


def _words(query: str) -> list[str]:
    return [word for word in re.split(r"[^a-z0-9_$]+", query.lower()) if word]


def _is_own(words: list[str]) -> bool:
    """Return whether a statement is the counting connection's own (it names pg_stat_statements...)."""
    return any(word.startswith(STATEMENTS_EXTENSION) for word in words)


def _kind(words: list[str]) -> str:
    return _TRANSACTION_WORDS.get(words[0], words[0].upper())


def order_and_preparation(log_lines: list[str], *, database: str) -> tuple[tuple[str, ...], bool]:
    """Return the kinds of the statements run in database that log_lines show, in order (runs collapsed),
    and whether one of them ran as a prepared statement."""
    order: list[str] = []
    prepared = False
    for line in log_lines:
        match = _LOGGED_STATEMENT.search(line)
        if match is None or match["database"] != database:
            continue  # a DETAIL line (parameters), a statement's next line, another database, another message
        words = _words(match["sql"])
        if not words or _is_own(words):
            continue
        kind = _kind(words)
        if not order or order[-1] != kind:
            order.append(kind)
        prepared = prepared or (match["name"] is not None and match["name"].strip() != _UNNAMED)
    return tuple(order), prepared


def summarize(
    rows: list[tuple[str, int, int]], *, table: str, log_lines: list[str], database: str
) -> Statements:
    """Return the Statements of pg_stat_statements rows (query, calls, rows) of database and the server
    log's lines written meanwhile."""
    control = {"BEGIN": 0, "COMMIT": 0, "ROLLBACK": 0}
    selects = selected_rows = updates = updated_rows = others = 0
    for query, calls, affected in rows:
        words = _words(str(query))
        if not words or _is_own(words):
            continue
        kind = _kind(words)
        if kind in control:
            control[kind] += int(calls)
        elif kind == "SELECT" and table.lower() in words:
            selects += int(calls)
            selected_rows += int(affected)
        elif kind == "UPDATE" and table.lower() in words:
            updates += int(calls)
            updated_rows += int(affected)
        else:
            others += int(calls)
    order, prepared = order_and_preparation(log_lines, database=database)
    return Statements(
        begins=control["BEGIN"],
        commits=control["COMMIT"],
        rollbacks=control["ROLLBACK"],
        selects=selects,
        selected_rows=selected_rows,
        updates=updates,
        updated_rows=updated_rows,
        others=others,
        order=order,
        prepared=prepared,
        log=tuple(log_lines),
    )


def count(database_url: str, *, table: str, log_lines: list[str]) -> Statements:
    """Return what was sent to this URL's database since the last reset (SELECT and UPDATE: on table)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT query, calls, rows FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
        database = connection.info.dbname
    return summarize(rows, table=table, log_lines=log_lines, database=database)


def row_counts(database_url: str, *, table: str) -> int:
    """Return the calls, since the last reset, of SELECT statements that count rows of table (count(...)
    anywhere in them), in this URL's database."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT query, calls FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
    counted = 0
    for query, calls in rows:
        words = _words(str(query))
        if (
            words
            and not _is_own(words)
            and words[0] == "select"
            and "count" in words
            and table.lower() in words
        ):
            counted += int(calls)
    return counted


def _log_lines_since(log_file: Path, offset: int) -> list[str]:
    with log_file.open("rb") as log:
        log.seek(offset)
        return log.read().decode("utf-8", errors="replace").splitlines()


def count_request(client: httpx.Client, app_server: AppServer, path: str, *, table: str) -> Statements:
    """Return the statements one GET of path sends, SELECT and UPDATE counted on table.

    The same request is sent once before counting, on the same kept-alive connection and so to the same
    worker, so that the counted request finds a pooled database connection that has already run it: what
    is counted is the request, not the setup of a new connection.
    """
    log_file = app_server.postgres_log
    assert log_file is not None, "statements are counted on PostgreSQL only"
    assert client.get(path).status_code == 200
    reset(app_server.database_url)
    offset = log_file.stat().st_size
    response = client.get(path)
    assert response.status_code == 200, response.text
    log_lines = _log_lines_since(log_file, offset)
    return count(app_server.database_url, table=table, log_lines=log_lines)


def driver_prepares(driver: str) -> bool:
    """Return whether the driver an app.toml names (e.g. "asyncpg", "psycopg, Django's pool") prepares
    every statement."""
    return driver.split(",")[0].strip() in PREPARING_DRIVERS

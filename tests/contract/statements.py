"""Count the SQL statements an app sends to PostgreSQL for one request, with pg_stat_statements.

The contract suite's cluster loads the extension (bench.database.postgres_cluster(count_statements=True)), with
pg_stat_statements.track_utility on (its default: BEGIN, COMMIT and ROLLBACK are counted as utility statements)
and track_planning on (so that a statement run from a prepared statement's cached plan shows as calls without
plans). Its counters are cluster-wide, so a count is taken for one database; SELECT and UPDATE are counted for
the statements that name one table. Between `reset()` and `count()` nothing but the request under test may use
that database: the counting connection reads only the statistics view, in autocommit.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bench.run.database import STATEMENTS_EXTENSION

# The first word of a transaction-control statement, by what it does (psycopg and asyncpg may add
# "ISOLATION LEVEL ..." to BEGIN; END and ABORT are PostgreSQL's synonyms).
_TRANSACTION_WORDS = {
    "begin": "begin",
    "start": "begin",
    "commit": "commit",
    "end": "commit",
    "rollback": "rollback",
    "abort": "rollback",
}


@dataclass(frozen=True)
class Statements:
    """What one request sent to a database since the last reset, as pg_stat_statements counts it."""

    begins: int
    commits: int
    rollbacks: int
    selects: int  # calls of SELECT statements that name the table
    selected_rows: int
    updates: int  # calls of UPDATE statements that name the table
    updated_rows: int
    others: int  # calls of any other statement (none expected)
    # Some SELECT or UPDATE on the table ran without being planned: it ran from a prepared statement's cached
    # (generic) plan. An unprepared statement is parsed and planned at every call.
    prepared: bool


def enable(database_url: str) -> None:
    """Create the statistics view in the database of database_url (idempotent)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f"CREATE EXTENSION IF NOT EXISTS {STATEMENTS_EXTENSION}")


def reset(database_url: str) -> None:
    """Zero the counters of every statement of the cluster."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("SELECT pg_stat_statements_reset()")


def _words(query: str) -> list[str]:
    return [word for word in re.split(r"[^a-z0-9_$]+", query.lower()) if word]


def summarize(rows: list[tuple[str, int, int, int]], *, table: str) -> Statements:
    """Return the Statements of pg_stat_statements rows (query, calls, rows, plans) of one database."""
    control = {"begin": 0, "commit": 0, "rollback": 0}
    selects = selected_rows = updates = updated_rows = others = 0
    prepared = False
    for query, calls, affected, plans in rows:
        words = _words(str(query))
        if not words or any(word.startswith(STATEMENTS_EXTENSION) for word in words):
            continue  # the counter's own reset
        if words[0] in _TRANSACTION_WORDS:
            control[_TRANSACTION_WORDS[words[0]]] += int(calls)
        elif words[0] == "select" and table.lower() in words:
            selects += int(calls)
            selected_rows += int(affected)
            prepared = prepared or int(plans) < int(calls)
        elif words[0] == "update" and table.lower() in words:
            updates += int(calls)
            updated_rows += int(affected)
            prepared = prepared or int(plans) < int(calls)
        else:
            others += int(calls)
    return Statements(
        begins=control["begin"],
        commits=control["commit"],
        rollbacks=control["rollback"],
        selects=selects,
        selected_rows=selected_rows,
        updates=updates,
        updated_rows=updated_rows,
        others=others,
        prepared=prepared,
    )


def count(database_url: str, *, table: str) -> Statements:
    """Return what was sent to this URL's database since the last reset, SELECT and UPDATE counted on table."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT query, calls, rows, plans FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
    return summarize(rows, table=table)


# The drivers that prepare every statement they run (asyncpg, through its statement cache): the one way the
# statements of a read may differ between apps (docs/contract.md, "SQL per request").
PREPARING_DRIVERS = frozenset({"asyncpg"})
# PostgreSQL plans the first 5 runs of a prepared statement and then reuses a generic plan, and psycopg
# prepares a statement after 5 runs: a statement run this often in one request shows whether it was prepared,
# whatever its connection ran before.
RUNS_THAT_SHOW_PREPARATION = 20


def count_request(client: httpx.Client, database_url: str, path: str, *, table: str) -> Statements:
    """Return the statements one GET of path sends, SELECT and UPDATE counted on table.

    The same request is sent once before counting, on the same kept-alive connection and so to the same
    worker, so that the counted request finds a pooled database connection that has already run it: what
    is counted is the request, not the setup of a new connection.
    """
    assert client.get(path).status_code == 200
    reset(database_url)
    response = client.get(path)
    assert response.status_code == 200, response.text
    return count(database_url, table=table)


def comparable(counted: Statements, expected: Statements, *, runs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return counted and expected as dicts to compare; without `prepared` where one request cannot show it:
    a preparing driver's statement that ran fewer than RUNS_THAT_SHOW_PREPARATION times. (An unprepared
    statement always shows: it is planned at every run.)"""
    pair = asdict(counted), asdict(expected)
    if expected.prepared and runs < RUNS_THAT_SHOW_PREPARATION:
        for fields in pair:
            del fields["prepared"]
    return pair


def driver_prepares(driver: str) -> bool:
    """Return whether the driver an app.toml names (e.g. "asyncpg", "psycopg, Django's pool") prepares
    every statement."""
    return driver.split(",")[0].strip() in PREPARING_DRIVERS

"""Count the SQL statements an app sends to PostgreSQL for one request, with pg_stat_statements.

The contract suite's cluster loads the extension (bench.database.postgres_cluster(count_statements=True)); its
counters are cluster-wide, so a count is taken for one database and for the statements that name one table.
Between `reset()` and `count()` nothing but the request under test may touch that table: the counting
connection reads only the statistics view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.run.database import STATEMENTS_EXTENSION


@dataclass(frozen=True)
class TableStatements:
    """What the statements naming one table did since the last reset."""

    selects: int  # calls of SELECT statements
    selected_rows: int
    updates: int  # calls of UPDATE statements
    updated_rows: int


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


def _statements_on(database_url: str, *, table: str) -> list[tuple[list[str], int, int]]:
    """Return (the statement's words, lowercased; calls; rows) of each statement naming table."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT query, calls, rows FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
    found = []
    for query, calls, affected in rows:
        words = [word for word in re.split(r"[^a-z0-9_$]+", str(query).lower()) if word]
        if words and table.lower() in words:
            found.append((words, int(calls), int(affected)))
    return found


def count(database_url: str, *, table: str) -> TableStatements:
    """Return the calls and rows of the SELECT and UPDATE statements on table, in this URL's database."""
    selects = selected_rows = updates = updated_rows = 0
    for words, calls, affected in _statements_on(database_url, table=table):
        if words[0] == "select":
            selects += calls
            selected_rows += affected
        elif words[0] == "update":
            updates += calls
            updated_rows += affected
    return TableStatements(
        selects=selects, selected_rows=selected_rows, updates=updates, updated_rows=updated_rows
    )


def row_counts(database_url: str, *, table: str) -> int:
    """Return the calls of SELECT statements that count rows of table (count(...) anywhere in them)."""
    return sum(
        calls
        for words, calls, _ in _statements_on(database_url, table=table)
        if words[0] == "select" and "count" in words
    )
